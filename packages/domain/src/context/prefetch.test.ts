import { ContextCache, type PrefetchedCaller } from './prefetch';

/* The prefetch cache's age and size bounds, on Jest's fake clock (its default `now` is Date.now()). */

const caller = (customer: string): PrefetchedCaller => ({
  companyId: 'co_1',
  customer,
  history: { call_count: 0, last_call_at: null, last_summary: null, memory: 'off' },
});

beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2026, 11, 6, 9) });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('ContextCache', () => {
  it('serves an entry until its ttl has passed, then forgets it', () => {
    const cache = new ContextCache({ ttlMs: 2 * 60 * 60_000 });
    cache.put('call_a', caller('+4930111'));
    jest.advanceTimersByTime(2 * 60 * 60_000 - 1);
    expect(cache.get('call_a')?.customer).toBe('+4930111');
    jest.advanceTimersByTime(1);
    expect(cache.get('call_a')).toBeUndefined();
    expect(cache.has('call_a')).toBe(false);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  it('a second put starts the entry’s age again', () => {
    const cache = new ContextCache({ ttlMs: 1000 });
    cache.put('call_a', caller('+4930111'));
    jest.advanceTimersByTime(800);
    cache.put('call_a', caller('+4930222'));
    jest.advanceTimersByTime(800);
    expect(cache.get('call_a')?.customer).toBe('+4930222');
  });

  it('keeps at most maxEntries, dropping the one stored longest ago', () => {
    const cache = new ContextCache({ maxEntries: 2 });
    cache.put('call_a', caller('a'));
    cache.put('call_b', caller('b'));
    // Stored again: now the newest.
    cache.put('call_a', caller('a2'));
    cache.put('call_c', caller('c'));
    expect([cache.has('call_a'), cache.has('call_b'), cache.has('call_c')]).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
  });

  it('forget and clear drop entries at once', () => {
    const cache = new ContextCache();
    cache.put('call_a', caller('a'));
    cache.put('call_b', caller('b'));
    cache.forget('call_a');
    expect(cache.get('call_a')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('a prefetch whose read began before an erasure does not put back what the erasure removed', () => {
    const cache = new ContextCache();
    const began = cache.epoch;
    // make forget: every process's cache is emptied while this prefetch still reads Postgres.
    cache.clear();
    cache.put('call_a', caller('+4930111'), Date.now(), began);
    expect(cache.has('call_a')).toBe(false);
    // One that began after it is kept.
    cache.put('call_a', caller('+4930111'), Date.now(), cache.epoch);
    expect(cache.get('call_a')?.customer).toBe('+4930111');
  });
});
