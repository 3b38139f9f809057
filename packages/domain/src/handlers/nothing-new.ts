import { type Db } from '@callsync/db';
import { findAppliedKeys } from '@callsync/db/events';
import { counterpartKey, stableJson } from '../events/delivery-identity';
import { ERASED } from '@callsync/db/privacy';
import type { SkippedEvent, StoredEvent } from './handler';

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

/**
 * Merge a batch's patches into the locked sessions (calls or chats alike), in order. An erased
 * session's events are skipped and pruned; a second copy of an event that changes nothing (its
 * counterpart from the other source was applied) is skipped and leaves the session as it was,
 * last_event_at included. Returns the skipped events and the sessions that changed.
 */
export async function mergePatches<S extends { lifecycle_rank: number }, P extends { rank: number }>(
  db: Db,
  patches: readonly { event: StoredEvent; id: string; patch: P }[],
  sessions: { state: Map<string, S>; erased: ReadonlySet<string> },
  rules: { merge: (session: S, patch: P) => S; isLifecycle: (eventType: string) => boolean },
): Promise<{ skipped: SkippedEvent[]; touched: Set<string> }> {
  const { state, erased } = sessions;
  const echoes = await withAppliedCounterpart(
    db,
    patches
      .filter((p) => rules.isLifecycle(p.event.eventType) && (state.get(p.id)?.lifecycle_rank ?? 0) >= p.patch.rank)
      .map((p) => p.event),
  );
  const skipped: SkippedEvent[] = [];
  const touched = new Set<string>();
  for (const { event, id, patch } of patches) {
    if (erased.has(id)) {
      skipped.push({ rowId: event.rowId, why: ERASED, prune: true });
      continue;
    }
    const before = state.get(id)!;
    const after = rules.merge(before, patch);
    if (echoes.has(event.rowId) && !changedSession(before, after)) {
      skipped.push({ rowId: event.rowId, why: NOTHING_NEW });
    } else {
      state.set(id, after);
      touched.add(id);
    }
  }
  return { skipped, touched };
}
