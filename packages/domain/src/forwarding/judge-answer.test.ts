import type { SendResult } from './http-send';
import { judgeAnswer } from './forward-delivery';

const answer = (statusCode: number | null, extra: Partial<SendResult> = {}): SendResult => ({
  statusCode,
  latencyMs: 5,
  excerpt: null,
  retryAfterMs: null,
  error: statusCode === null ? 'no answer' : null,
  refused: false,
  ...extra,
});
const schedule = [1000, 2000];
const now = 1_000_000;

describe('the retry policy (Standard Webhooks senders)', () => {
  it('retries every non-2xx on the schedule: 3xx, 401, 404, 408, 429, 5xx, no answer', () => {
    for (const code of [301, 302, 400, 401, 403, 404, 408, 422, 429, 500, 503, null])
      expect(judgeAnswer(answer(code), 1, schedule, now)).toEqual({ kind: 'retry', at: new Date(now + 1000) });
    expect(judgeAnswer(answer(204), 1, schedule, now)).toEqual({ kind: 'delivered' });
  });

  it('fails at once on 410 and on a refused address; fails once the schedule runs out', () => {
    expect(judgeAnswer(answer(410), 1, schedule, now)).toEqual({ kind: 'failed' });
    expect(judgeAnswer(answer(null, { refused: true }), 1, schedule, now)).toEqual({ kind: 'failed' });
    expect(judgeAnswer(answer(500), 2, schedule, now)).toEqual({ kind: 'retry', at: new Date(now + 2000) });
    expect(judgeAnswer(answer(500), 3, schedule, now)).toEqual({ kind: 'failed' });
  });

  it('with fail_4xx fails a 4xx at once, but still retries 408 and 429 (and 5xx, 3xx)', () => {
    const o = { fail4xx: true };
    for (const code of [400, 401, 404, 422]) expect(judgeAnswer(answer(code), 1, schedule, now, o).kind).toBe('failed');
    for (const code of [408, 429, 500, 302]) expect(judgeAnswer(answer(code), 1, schedule, now, o).kind).toBe('retry');
  });

  it('honours a longer retry-after', () => {
    expect(judgeAnswer(answer(429, { retryAfterMs: 60_000 }), 1, schedule, now)).toEqual({
      kind: 'retry',
      at: new Date(now + 60_000),
    });
  });
});
