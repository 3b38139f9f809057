import { retryAfterMs } from './api-client';

/* How long a 429 or 503 asks the client to wait, read on Jest's fake clock (HTTP dates count from it). */

beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2026, 11, 6, 9, 0, 0) });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('retryAfterMs', () => {
  it('prefers retry-after-ms, then retry-after in seconds', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '3' })).toBe(250);
    expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '0.5' })).toBe(500);
  });

  it('counts an HTTP date from now, and one already past as no wait', () => {
    expect(retryAfterMs({ 'retry-after': 'Sun, 06 Dec 2026 09:00:42 GMT' })).toBe(42_000);
    jest.advanceTimersByTime(40_000);
    expect(retryAfterMs({ 'retry-after': 'Sun, 06 Dec 2026 09:00:42 GMT' })).toBe(2_000);
    expect(retryAfterMs({ 'retry-after': 'Sun, 06 Dec 2026 08:00:00 GMT' })).toBe(0);
  });

  it('is null without a usable header (a negative retry-after-ms falls back to retry-after)', () => {
    expect(retryAfterMs({})).toBeNull();
    expect(retryAfterMs({ 'retry-after': '' })).toBeNull();
    expect(retryAfterMs({ 'retry-after': 'later' })).toBeNull();
    expect(retryAfterMs({ 'retry-after-ms': '-1' })).toBeNull();
    expect(retryAfterMs({ 'retry-after-ms': '-1', 'retry-after': '2' })).toBe(2000);
  });
});
