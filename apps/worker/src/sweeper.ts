import { type Db } from '@callsync/db';
import { findPendingPage, oldestPendingEventId } from '@callsync/db/events';
import { findOverdueHeads, releaseStrandedHeld } from '@callsync/db/forward';
import type { Logger } from '@callsync/logger';
import {
  ensureForwardJobs,
  ensureWebhookJobs,
  liveBatchRowsBetween,
  queueRedis,
  trimBatchMembership,
  webhookJobData,
  webhookJobId,
  type ForwardQueue,
  type WebhookQueue,
} from '@callsync/queue';

export interface SweepOptions {
  /** Rows pending for longer than this are checked. */
  pendingAfterMs: number;
  /** Rows per query. Default 500. */
  batchSize?: number;
  /**
   * Rows one sweep checks that all had a job; the next sweep goes on after the last of them, and after
   * the newest row it starts over at the oldest. Pages where rows had lost their job do not count:
   * repairs are never put off. Default 20000.
   */
  maxRowsPerSweep?: number;
  /**
   * The same limit in time: no new page of such rows after this. Default 500 ms (docs/performance.md
   * has the figures with a million-row backlog).
   */
  maxMsPerSweep?: number;
  now?: () => Date;
}

export interface SweepResult {
  /** Pending rows looked at. */
  checked: number;
  /** Rows that had no job (Redis lost it, or the enqueue failed): added. */
  enqueued: number;
  /** Rows whose job had finished without finishing the row (e.g. attempts ran out while Postgres was down): retried. */
  retried: number;
}

/** Where the next sweep starts (a row id), so a backlog is checked a bounded slice per sweep. */
const cursorKey = (queue: WebhookQueue) => queue.toKey('sweep-cursor');

/**
 * The outbox sweeper: Postgres is the source of truth, so every row still `pending` after a while
 * gets a live job, unless a live batch job holds it. Job ids derive from row ids, so running this from
 * many processes at once, or while the ingress enqueues the same row, never duplicates work.
 *
 * Its cost per sweep does not grow with the backlog: it reads at most `maxRowsPerSweep` rows (a page
 * at a time, from where the previous sweep stopped), and asks Redis only about those rows' jobs and
 * the batches recorded for their id range (see recordBatchMembership), never about every live job.
 */
export async function sweepPendingEvents(
  db: Db,
  queue: WebhookQueue,
  logger: Logger,
  options: SweepOptions,
): Promise<SweepResult> {
  const cutoff = new Date((options.now?.() ?? new Date()).getTime() - options.pendingAfterMs);
  const batchSize = options.batchSize ?? 500;
  const budget = options.maxRowsPerSweep ?? 20_000;
  const deadline = Date.now() + (options.maxMsPerSweep ?? 500);
  const result: SweepResult = { checked: 0, enqueued: 0, retried: 0 };
  const redis = await queueRedis(queue);
  let after: string | null = await redis.get(cursorKey(queue));
  if (after === null) {
    // A pass starts over: batches whose rows are all finished are forgotten first.
    const oldest = await oldestPendingEventId(db);
    if (oldest !== null) await trimBatchMembership(queue, oldest);
  }
  let spent = 0;
  let finished = false;
  while (spent < budget && (spent === 0 || Date.now() < deadline)) {
    const page = await findPendingPage(db, cutoff, after, batchSize);
    if (page.length === 0) {
      finished = true;
      break;
    }
    // Rows younger than the threshold are the ingress's to enqueue.
    const rows = page.filter((r) => r.due);
    result.checked += rows.length;
    let repaired = 0;
    if (rows.length) {
      // Rows a batch job will still apply are not orphans (a backlog older than the threshold is normal).
      const inBatches = await liveBatchRowsBetween(queue, rows[0]!.id, rows[rows.length - 1]!.id);
      const candidates = rows.filter((r) => !inBatches.has(r.id)).map(webhookJobData);
      // A row whose own job exists and has not finished is fine. Read from the job's hash (O(1)):
      // ensureWebhookJobs asks getState(), which scans the waiting list, for every job it is given.
      const own = await Promise.all(candidates.map((c) => queue.getJob(webhookJobId(c.rowId, c.snapshot))));
      const orphans = candidates.filter((_, i) => !own[i] || own[i]!.finishedOn !== undefined);
      const r = await ensureWebhookJobs(queue, orphans);
      result.enqueued += r.enqueued;
      result.retried += r.retried;
      repaired = r.enqueued + r.retried;
    }
    if (repaired === 0) spent += page.length;
    after = page[page.length - 1]!.id;
    if (page.length < batchSize) {
      finished = true;
      break;
    }
  }
  if (finished) await redis.del(cursorKey(queue));
  else await redis.set(cursorKey(queue), after!, { EX: 24 * 3600 });
  if (result.enqueued || result.retried) logger.warn('outbox sweeper re-enqueued pending events', { ...result });
  return result;
}

/**
 * The same for forwarding: a pending delivery at the head of its chain whose attempt was due over
 * `pendingAfterMs` ago and that no sender holds has lost its job (a crash between the apply's commit
 * and the enqueue, Redis without its data, a reconciliation pass that applied events): give it one.
 * Deliveries left held for an active destination (written as a resume committed) are released first.
 */
export async function sweepOverdueForwards(
  db: Db,
  queue: ForwardQueue,
  logger: Logger,
  options: SweepOptions,
): Promise<SweepResult> {
  const cutoff = new Date((options.now?.() ?? new Date()).getTime() - options.pendingAfterMs);
  const released = await releaseStrandedHeld(db, cutoff);
  if (released) logger.warn('outbox sweeper released deliveries held for a destination that is active', { released });
  const heads = await findOverdueHeads(db, cutoff, options.batchSize ?? 500);
  const r = await ensureForwardJobs(queue, heads);
  const result: SweepResult = { checked: heads.length, enqueued: r.enqueued, retried: r.retried };
  if (result.enqueued || result.retried) logger.warn('outbox sweeper re-enqueued forward deliveries', { ...result });
  return result;
}
