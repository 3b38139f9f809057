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

describe('maskPhoneNumber: national and formatted numbers (German formats as people write them)', () => {
  it.each([
    ['0160 4366218', '0****18'],
    ['01604366218', '0****18'],
    ['0160/4366218', '0****18'],
    ['0160-436 62 18', '0****18'],
    ['030-3308 1738', '0****38'],
    ['030 33081738', '0****38'],
    ['(030) 33081738', '0****38'],
    ['030/3308-1738', '0****38'],
    ['089 12345678', '0****78'],
    ['+49 (0)30 33081738', '+49****38'],
    ['+49 (0) 30 3308 1738', '+49****38'],
    ['+49 160 4366218', '+49****18'],
    ['+49-30-3308-1738', '+49****38'],
    ['0049 160 4366218', '+49****18'],
    ['0049-30-33081738', '+49****38'],
    ['0043 1 5353535', '+43****35'],
  ])('%s -> %s', (written, masked) => {
    expect(maskPhoneNumber(written)).toBe(masked);
    expect(maskPhoneNumber(`Rückruf an ${written}, bitte.`)).toBe(`Rückruf an ${masked}, bitte.`);
  });

  it('masks them inside log fields and transcripts', () => {
    expect(
      redact({
        from_number: '0160 4366218',
        transcript: 'User: Meine Nummer ist 030-3308 1738.\nAgent: Danke.',
        note: 'fallback +49 (0)30 33081738 / 0049 160 4366218',
      }),
    ).toEqual({
      from_number: '0****18',
      transcript: 'User: Meine Nummer ist 0****38.\nAgent: Danke.',
      note: 'fallback +49****38 / +49****18',
    });
  });

  it('leaves ids, dates, times, durations, versions and short numbers alone', () => {
    for (const text of [
      'row 12345',
      'job evt-01234567',
      '2026-12-06T07:34:27.123Z',
      '06.12.2026',
      'latency 0.0123456 s',
      'took 01234 ms',
      'call_0160436621800',
      'id 0123456789abcdef0123',
      '01234567-89ab-4def-8123-456789abcdef',
      'v=1761300000000,d=0123456789',
      'version 0.10.3',
      '10.0.0.1:5432',
      'attempt 3 of 5',
      'PLZ 10115 Berlin',
    ])
      expect(maskPhoneNumber(text)).toBe(text);
  });
});
