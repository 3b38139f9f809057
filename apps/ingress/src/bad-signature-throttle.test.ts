import { BadSignatureThrottle } from './bad-signature-throttle';

describe('BadSignatureThrottle', () => {
  it('throttles an address past the limit for the rest of the window, and only that address', () => {
    let now = 1_000_000;
    const throttle = new BadSignatureThrottle({ limit: 2, windowMs: 10_000, now: () => now });
    expect(throttle.refused('198.51.100.1')).toBe(false);
    expect(throttle.retryAfterSeconds('198.51.100.1')).toBe(0);
    expect(throttle.refused('198.51.100.1')).toBe(true);
    expect(throttle.retryAfterSeconds('198.51.100.1')).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds('198.51.100.2')).toBe(0);
    now += 10_000;
    expect(throttle.retryAfterSeconds('198.51.100.1')).toBe(0);
  });

  it('tracks at most maxAddresses per window', () => {
    const throttle = new BadSignatureThrottle({ limit: 1, maxAddresses: 2, now: () => 0 });
    throttle.refused('a');
    throttle.refused('b');
    expect(throttle.refused('c')).toBe(false);
    expect(throttle.retryAfterSeconds('c')).toBe(0);
    expect(throttle.retryAfterSeconds('a')).toBeGreaterThan(0);
  });
});
