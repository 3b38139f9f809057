import { maskPhoneNumber, redact } from './mask';

describe('maskPhoneNumber', () => {
  it('shows at most the country code and the last two digits (German, US, UK and others)', () => {
    expect(maskPhoneNumber('+491604366218')).toBe('+49****18');
    expect(maskPhoneNumber('+14155550123')).toBe('+1****23');
    expect(maskPhoneNumber('+447911123456')).toBe('+44****56');
    expect(maskPhoneNumber('+353861234567')).toBe('+353****67');
    expect(maskPhoneNumber('from +493033081738 to +491604366218')).toBe('from +49****38 to +49****18');
  });
  it('never leaves more than the country code (up to three digits) and two digits readable', () => {
    for (const n of [
      '+491604366218',
      '+14155550123',
      '+447911123456',
      '+79161234567',
      '+2348031234567',
      '+8613812345678',
    ]) {
      const digits = maskPhoneNumber(n).replace(/\D/g, '');
      expect(digits.length).toBeLessThanOrEqual(5);
      expect(n).toContain(digits.slice(-2));
    }
  });
  it('leaves non-numbers alone', () => {
    expect(maskPhoneNumber('anonymous')).toBe('anonymous');
    expect(maskPhoneNumber('row 12345')).toBe('row 12345');
  });
});

describe('redact', () => {
  it('masks nested numbers and drops secrets', () => {
    expect(redact({ call: { from_number: '+491604366218' }, 'x-retell-signature': 'v=1,d=ab', apiKey: 'k' })).toEqual({
      call: { from_number: '+49****18' },
      'x-retell-signature': '[redacted]',
      apiKey: '[redacted]',
    });
  });
});
