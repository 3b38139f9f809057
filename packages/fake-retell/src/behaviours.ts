import type express from 'express';

/** How the fake answers get-call for a call (or for every call, with '*'). */
export interface FakeBehaviour {
  /** Answer this status instead of the call. Omit to answer normally (e.g. only add a delay). */
  status?: number;
  /** `retry-after` header, in seconds. */
  retryAfterSec?: number;
  /** `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Apply to this many requests, then fall back to normal. Default: every request. */
  times?: number;
  /** Extra response headers (e.g. `x-should-retry`), on whatever the answer is. */
  headers?: Record<string, string>;
}

/**
 * Scripted answers, keyed by a call's or chat's id, an endpoint's name (`list-agents`, `llm`) or '*'
 * (every request): each used at most `times` times, the specific key before '*'.
 */
export class Behaviours {
  private readonly byKey = new Map<string, FakeBehaviour & { used: number }>();

  set(key: string, behaviour: FakeBehaviour): void {
    this.byKey.set(key, { ...behaviour, used: 0 });
  }

  clear(): void {
    this.byKey.clear();
  }

  /** The behaviour for this request, counted as used; undefined to answer normally. */
  take(key: string): FakeBehaviour | undefined {
    for (const k of [key, '*']) {
      const b = this.byKey.get(k);
      if (b && (b.times === undefined || b.used < b.times)) {
        b.used += 1;
        return b;
      }
    }
    return undefined;
  }
}

/**
 * Carry out a behaviour's delay and headers, and answer its status if it has one (with its
 * retry-after headers). Returns the status answered, or null when the request is to be answered normally.
 */
export async function actOut(b: FakeBehaviour | undefined, res: express.Response): Promise<number | null> {
  if (b?.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
  if (b?.headers) res.set(b.headers);
  if (!b?.status) return null;
  if (b.retryAfterSec !== undefined) res.set('retry-after', String(b.retryAfterSec));
  if (b.retryAfterMs !== undefined) res.set('retry-after-ms', String(b.retryAfterMs));
  res.status(b.status).json({ error_message: `fake Retell answering ${b.status}` });
  return b.status;
}
