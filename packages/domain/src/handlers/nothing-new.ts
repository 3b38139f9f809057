import { findAppliedKeys, type Db } from '@callsync/db';
import { counterpartKey, stableJson } from '../events/delivery-identity';
import type { StoredEvent } from './handler';

/*
 * An event applied twice, once from Retell's webhook and once from its API (reconciliation,
 * discovery), is two rows under two keys (apiDedupeKey). The second to arrive is applied when it
 * carries more (a transcript the listing left out, say); when it changes nothing, it is stored but
 * marked skipped and not forwarded again.
 */

/** Why a delivery was stored but not applied: the same event had come from the other source already. */
export const NOTHING_NEW =
  "nothing new: the same event was already applied (from Retell's API or an earlier delivery) and this one changed nothing";

/** Bookkeeping that every apply moves: not "something new". */
const BOOKKEEPING = new Set(['last_event_at', 'analyzed_at', 'lifecycle_rank']);

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  // pg reads int8 and numeric columns as strings; an event's patch has numbers.
  const scalar = (v: unknown) => typeof v === 'number' || typeof v === 'string';
  if (scalar(a) && scalar(b) && typeof a !== typeof b) return String(a) === String(b);
  return stableJson(a) === stableJson(b);
}

/** True when `after` differs from `before` in something other than bookkeeping. */
export function changedSession(before: object, after: object): boolean {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return Object.keys(b).some((k) => !BOOKKEEPING.has(k) && !same(a[k] ?? null, b[k] ?? null));
}

/**
 * Of `events` (lifecycle events whose session had already reached their rank before this batch),
 * the row ids whose counterpart from the other source was applied: these are applied only when they
 * change the session.
 */
export async function withAppliedCounterpart(db: Db, events: readonly StoredEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const applied = await findAppliedKeys(
    db,
    events.map((e) => counterpartKey(e.dedupeKey)),
  );
  return new Set(events.filter((e) => applied.has(counterpartKey(e.dedupeKey))).map((e) => e.rowId));
}
