import { maskPhoneNumber, redact } from './mask';

describe('maskPhoneNumber', () => {
  it('keeps the prefix and the last three digits', () => {
    expect(maskPhoneNumber('+491604366218')).toBe('+49160****218');
    expect(maskPhoneNumber('from +493033081738 to +491604366218')).toBe('from +49303****738 to +49160****218');
  });
  it('leaves non-numbers alone', () => {
    expect(maskPhoneNumber('anonymous')).toBe('anonymous');
    expect(maskPhoneNumber('row 12345')).toBe('row 12345');
  });
});

describe('redact', () => {
  it('masks nested numbers and drops secrets', () => {
    expect(redact({ call: { from_number: '+491604366218' }, 'x-retell-signature': 'v=1,d=ab', apiKey: 'k' })).toEqual({
      call: { from_number: '+49160****218' },
      'x-retell-signature': '[redacted]',
      apiKey: '[redacted]',
    });
  });
});
