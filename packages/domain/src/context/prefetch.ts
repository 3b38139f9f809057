import type { CallerHistory } from '@callsync/db/live';

/*
 * Call contexts resolved ahead of the call's first function (at call_inbound and call_started), so
 * that function does not wait for Postgres: the live call object the request carries gives the call's
 * state, the TenantDirectory its company and agent, and this cache the caller's history. Bounded in
 * entries and age; the oldest entry goes first.
 */

export interface PrefetchedCaller {
  companyId: string | null;
  /** The customer's number (the caller inbound); null when withheld. */
  customer: string | null;
  history: CallerHistory;
}

export interface ContextCacheOptions {
  /** Entries kept at most. Default 10,000 (a few MB). */
  maxEntries?: number;
  /** An entry is used for this long after it was stored. Default 2 h, longer than nearly every call. */
  ttlMs?: number;
}

export class ContextCache {
  private readonly entries = new Map<string, { value: PrefetchedCaller; until: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  hits = 0;
  misses = 0;
  /**
   * Erasures so far (clear()): a prefetch reads Postgres before it stores, and one whose read began
   * before an erasure must not put back what the erasure removed. It passes the epoch it began in.
   */
  private erasures = 0;

  constructor(options: ContextCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 2 * 60 * 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The epoch to pass to put() by a prefetch that reads before it stores. */
  get epoch(): number {
    return this.erasures;
  }

  /** Keep `value` for the call; not if a caller was erased since `epoch` (when the read began). */
  put(callId: string, value: PrefetchedCaller, now = Date.now(), epoch = this.erasures): void {
    if (epoch !== this.erasures) return;
    this.entries.delete(callId);
    this.entries.set(callId, { value, until: now + this.ttlMs });
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get(callId: string, now = Date.now()): PrefetchedCaller | undefined {
    const hit = this.entries.get(callId);
    if (hit && hit.until > now) {
      this.hits += 1;
      return hit.value;
    }
    if (hit) this.entries.delete(callId);
    this.misses += 1;
    return undefined;
  }

  has(callId: string): boolean {
    return this.entries.has(callId);
  }

  /** The call ended, or its caller was erased: nothing of it is kept. */
  forget(callId: string): void {
    this.entries.delete(callId);
  }

  /** A caller was erased (make forget): nothing prefetched survives, nor does a prefetch under way. */
  clear(): void {
    this.erasures += 1;
    this.entries.clear();
  }
}
