import { findOverdueHeads, findPendingEvents, releaseStrandedHeld, type Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import {
  ensureForwardJobs,
  ensureWebhookJobs,
  rowsInLiveBatches,
  webhookJobData,
  type ForwardQueue,
  type WebhookQueue,
} from '@callsync/queue';

export interface SweepOptions {
  /** Rows pending for longer than this are checked. */
  pendingAfterMs: number;
  /** Rows per query. Default 500. */
  batchSize?: number;
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

/**
 * The outbox sweeper: Postgres is the source of truth, so every row still `pending` after a while
 * gets a live job, unless a live batch job holds it. Job ids derive from row ids, so running this from
 * many processes at once, or while the ingress enqueues the same row, never duplicates work.
 */
export async function sweepPendingEvents(
  db: Db,
  queue: WebhookQueue,
  logger: Logger,
  options: SweepOptions,
): Promise<SweepResult> {
  const cutoff = new Date((options.now?.() ?? new Date()).getTime() - options.pendingAfterMs);
  const batchSize = options.batchSize ?? 500;
  const result: SweepResult = { checked: 0, enqueued: 0, retried: 0 };
  let after: string | null = null;
  // Rows a batch job will still apply are not orphans (a backlog older than the threshold is normal).
  const inBatches = await rowsInLiveBatches(queue);
  for (;;) {
    const rows = await findPendingEvents(db, cutoff, after, batchSize);
    if (rows.length === 0) break;
    result.checked += rows.length;
    const orphans = rows.filter((r) => !inBatches.has(r.id));
    const r = await ensureWebhookJobs(queue, orphans.map(webhookJobData));
    result.enqueued += r.enqueued;
    result.retried += r.retried;
    after = rows[rows.length - 1]!.id;
    if (rows.length < batchSize) break;
  }
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
