import { stableJson } from '../events/delivery-identity';

/*
 * The merge rules calls and chats share. A session is the merge of every event seen for it, built so
 * that every arrival order of the same events gives the same session:
 * - each event has a lifecycle rank (started 1 < ended 2 < analyzed 3). A field takes the value of
 *   the highest-ranked event that carries it; lower-ranked events only fill fields still empty;
 * - the analysis is the newest one received (a re-run analysis replaces the first); ties, which only
 *   happen within one millisecond, go to the larger JSON text, so they too are order-free;
 * - status only moves forward, from its open value (in_progress / ongoing) to a terminal one;
 * - `last_event_at` and the rank only grow.
 */

export interface RankedState {
  lifecycle_rank: number;
  last_event_at: Date | null;
  analysis: unknown;
  analyzed_at: Date | null;
}

export interface RankedPatch {
  rank: number;
  /** When callsync first received the event. */
  observedAt: Date;
  /** null: the event says nothing about the analysis. */
  analysis: unknown;
}

/** True when `patch` outranks (or equals) what the session has seen: its fields win. */
export const outranks = (cur: RankedState, patch: RankedPatch) => patch.rank >= cur.lifecycle_rank;

function newerAnalysis(cur: RankedState, patch: RankedPatch): boolean {
  if (cur.analysis === null || cur.analysis === undefined || cur.analyzed_at === null) return true;
  const d = patch.observedAt.getTime() - cur.analyzed_at.getTime();
  return d !== 0 ? d > 0 : stableJson(patch.analysis) > stableJson(cur.analysis);
}

/** Merge `fields` by rank, the analysis by time, and the bookkeeping. Status is the caller's. */
export function mergeRanked<S extends RankedState, P extends RankedPatch>(
  cur: S,
  patch: P,
  fields: readonly (keyof S & keyof P)[],
): S {
  const newer = outranks(cur, patch);
  const next = { ...cur } as Record<keyof S, unknown>;
  for (const f of fields) {
    const mine = cur[f] ?? null;
    const theirs = patch[f] ?? null;
    next[f] = newer ? (theirs ?? mine) : (mine ?? theirs);
  }
  if (patch.analysis !== null && patch.analysis !== undefined && newerAnalysis(cur, patch)) {
    next.analysis = patch.analysis;
    next.analyzed_at = patch.observedAt;
  }
  next.lifecycle_rank = Math.max(cur.lifecycle_rank, patch.rank);
  next.last_event_at = cur.last_event_at && cur.last_event_at > patch.observedAt ? cur.last_event_at : patch.observedAt;
  return next as S;
}

/** Status moves forward only: open -> terminal; between terminal values the outranking event decides. */
export function forwardStatus<T extends string>(current: T, theirs: T, open: T, newer: boolean): T {
  if (current === open) return theirs;
  if (theirs === open) return current;
  return newer ? theirs : current;
}

export const dateOf = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms));
