import { DEFAULT_RETRY_SCHEDULE_MS, judgeAnswer } from './forward-delivery';
import { parseRetryAfter, type SendResult } from './http-send';

/*
 * The forward retry schedule, walked on an injected clock: each failed attempt's next try is computed
 * from `now`, so the whole day of retries runs in a millisecond.
 */

const failed = (retryAfterMs: number | null = null): SendResult => ({
  statusCode: 503,
  latencyMs: 5,
  excerpt: null,
  retryAfterMs,
  error: null,
  refused: false,
});
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const start = Date.UTC(2026, 11, 6, 9);

/** Attempt times of a delivery whose receiver always answers like `answer`, from `start` until it fails. */
function walk(answer: SendResult, schedule = DEFAULT_RETRY_SCHEDULE_MS): number[] {
  const attempts = [start];
  for (let attempt = 1; ; attempt++) {
    const verdict = judgeAnswer(answer, attempt, schedule, attempts[attempt - 1]!);
    if (verdict.kind !== 'retry') return attempts;
    attempts.push(verdict.at.getTime());
  }
}

describe('the default forward retry schedule', () => {
  it('tries 8 times in all: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then fails', () => {
    const attempts = walk(failed());
    expect(attempts.slice(1).map((at, i) => at - attempts[i]!)).toEqual([
      5 * SECOND,
      5 * MINUTE,
      30 * MINUTE,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      10 * HOUR,
    ]);
    expect(judgeAnswer(failed(), 8, DEFAULT_RETRY_SCHEDULE_MS, attempts[7]!)).toEqual({ kind: 'failed' });
  });

  it('gives a receiver a little over a day to come back', () => {
    const attempts = walk(failed());
    expect(attempts.at(-1)! - start).toBe(27 * HOUR + 35 * MINUTE + 5 * SECOND);
  });

  it("takes the longer of the step and the receiver's retry-after, never more than a day", () => {
    // Shorter than the step: the step stands.
    expect(judgeAnswer(failed(1 * SECOND), 1, DEFAULT_RETRY_SCHEDULE_MS, start)).toEqual({
      kind: 'retry',
      at: new Date(start + 5 * SECOND),
    });
    // Longer: honoured.
    expect(judgeAnswer(failed(3 * HOUR), 2, DEFAULT_RETRY_SCHEDULE_MS, start)).toEqual({
      kind: 'retry',
      at: new Date(start + 3 * HOUR),
    });
    // A week: cut to a day, and the attempts still run out.
    const attempts = walk(failed(7 * 24 * HOUR));
    expect(attempts).toHaveLength(8);
    expect(new Set(attempts.slice(1).map((at, i) => at - attempts[i]!))).toEqual(new Set([24 * HOUR]));
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 11, 6, 9, 0, 0);
  it('reads seconds, or an HTTP date counted from now', () => {
    expect(parseRetryAfter('120', now)).toBe(120 * SECOND);
    expect(parseRetryAfter(' 7 ', now)).toBe(7 * SECOND);
    expect(parseRetryAfter('Sun, 06 Dec 2026 09:02:30 GMT', now)).toBe(150 * SECOND);
  });

  it('reads a date already past as "now", and no value or words as none', () => {
    expect(parseRetryAfter('Sun, 06 Dec 2026 08:00:00 GMT', now)).toBe(0);
    for (const value of [undefined, '', 'soon']) expect(parseRetryAfter(value, now)).toBeNull();
  });
});
