import { type Db } from '@callsync/db';
import { findEventsToReplay, markForReplay, type ReplaySelection, type WebhookEventStatus } from '@callsync/db/events';

/*
 * Replaying stored events, the one way `make replay` and the console's Replay buttons both do it:
 * select the rows, refuse those whose payload retention removed, mark the rest (replay_count + 1,
 * back to pending) and give each a job. Selecting and replaying are two steps so that a caller can
 * show what it found first (the CLI's --dry-run, the console's confirmation).
 */

/** A stored event that a replay may run again. */
export type ReplayRow = Awaited<ReturnType<typeof findEventsToReplay>>[number];

/** How many jobs a replay added, retried or found already queued. */
export interface ReplayJobCounts {
  enqueued: number;
  retried: number;
  inFlight: number;
}

/** Gives replayed rows their jobs: the caller's webhook queue (ensureWebhookJobs over webhookJobData). */
export type EnqueueReplayed = (rows: readonly ReplayRow[]) => Promise<ReplayJobCounts>;

export interface ReplayCandidates {
  /** The rows to run again, oldest first. */
  rows: ReplayRow[];
  /** Rows that matched but whose payload retention removed: refused, there is nothing to apply. */
  pruned: number;
  /** Whether the selection stopped at its limit (there may be more). */
  atLimit: boolean;
}

/** The rows a selection would replay, with the ones retention pruned counted apart (pure). */
export function splitPruned(selected: readonly ReplayRow[], limit: number): ReplayCandidates {
  const rows = selected.filter((r) => r.pruned_at === null);
  return { rows, pruned: selected.length - rows.length, atLimit: selected.length === limit };
}

/** Step one: what the selection matches, the pruned rows set apart. Changes nothing. */
export async function findReplayCandidates(db: Db, selection: ReplaySelection): Promise<ReplayCandidates> {
  return splitPruned(await findEventsToReplay(db, selection), selection.limit);
}

export interface ReplayResult {
  /** The ids marked for replay; a row that left `fromStatuses` meanwhile is not among them. */
  marked: string[];
  jobs: ReplayJobCounts;
}

/**
 * Step two: mark the rows still in one of `fromStatuses` (replay_count + 1, last_replayed_at, back to
 * pending; `source` stays) and give each marked row a job. A running worker applies them.
 */
export async function replayEvents(
  db: Db,
  rows: readonly ReplayRow[],
  fromStatuses: readonly WebhookEventStatus[],
  enqueue: EnqueueReplayed,
): Promise<ReplayResult> {
  if (rows.length === 0) return { marked: [], jobs: { enqueued: 0, retried: 0, inFlight: 0 } };
  const marked = await markForReplay(
    db,
    rows.map((r) => r.id),
    fromStatuses,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const jobs = await enqueue(marked.map((id) => byId.get(id)!));
  return { marked, jobs };
}
