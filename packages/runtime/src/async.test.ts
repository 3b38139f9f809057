import { Limiter, mapLimit, TimeoutError, waitUntil, withTimeout } from './async';

describe('mapLimit and Limiter', () => {
  it('never run more than the limit at once, and run everything', async () => {
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    const work = async (n: number) => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active -= 1;
      done.push(n);
    };
    await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, work);
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const limiter = new Limiter(2);
    peak = 0;
    await Promise.all([1, 2, 3, 4, 5].map((n) => limiter.run(() => work(n))));
    expect(peak).toBe(2);
  });
});

describe('withTimeout', () => {
  it('passes the result through, or rejects with a TimeoutError naming the work', async () => {
    expect(await withTimeout(Promise.resolve(42), 1000, 'answering')).toBe(42);
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 10, 'closing the worker')).rejects.toThrow(
      new TimeoutError('closing the worker took longer than 10 ms'),
    );
  });
});

describe('waitUntil', () => {
  it('returns the first value other than undefined, or undefined after the timeout', async () => {
    let calls = 0;
    expect(await waitUntil(async () => (++calls === 3 ? 'ready' : undefined), { timeoutMs: 5000, intervalMs: 1 })).toBe(
      'ready',
    );
    expect(calls).toBe(3);
    expect(await waitUntil(async () => undefined, { timeoutMs: 20, intervalMs: 5 })).toBeUndefined();
  });
});
