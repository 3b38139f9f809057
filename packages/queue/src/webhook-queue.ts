import { Queue, type JobsOptions } from 'bullmq';
import type { RedisConnection } from './connection';
import { recordBatchMembership } from './batch-membership';
import { ensureJobs, type EnsureJobsResult } from './ensure-jobs';
import { webhookBatchJob, webhookEventJob, type WebhookBatchData, type WebhookJobData } from './jobs';

/** Name of the queue that carries one job per stored webhook_events row. */
export const WEBHOOK_QUEUE = webhookEventJob.queue;

/**
 * The job id for a row. Deriving it from the row id makes a re-add a no-op while the job exists.
 * A transcript_updated row is applied again each time a longer snapshot replaces its payload, so its
 * jobs also carry the snapshot's size. BullMQ ids must not be bare integers or contain ':'.
 */
export function webhookJobId(rowId: string, snapshot?: number | null): string {
  return snapshot === undefined || snapshot === null ? `evt-${rowId}` : `evt-${rowId}-s${snapshot}`;
}

const jobIdOf = (data: WebhookJobData) => webhookJobId(data.rowId, data.snapshot);

export interface WebhookQueueOptions {
  connection: RedisConnection;
  /** Key prefix; a {hash tag} keeps one queue in one cluster slot. */
  prefix: string;
  /** Default WEBHOOK_QUEUE; tests use a unique name each. */
  name?: string;
  /** Tries per job before the row is failed. */
  attempts: number;
  /** First retry delay in ms; doubles on each further try. */
  backoffMs: number;
}

/** Per-row jobs (named after their event) and batch jobs share the queue. */
export type WebhookQueue = Queue<WebhookJobData | WebhookBatchData>;

/** Bounded retention so Redis memory stays flat; Postgres keeps the history. */
export function webhookJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
  };
}

export function createWebhookQueue(options: WebhookQueueOptions): WebhookQueue {
  return new Queue<WebhookJobData | WebhookBatchData>(options.name ?? WEBHOOK_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: webhookJobOptions(options.attempts, options.backoffMs),
  });
}

/** Enqueue the job for a stored row; a second call for the same row is a no-op. */
export async function enqueueWebhookEvent(queue: WebhookQueue, data: WebhookJobData): Promise<void> {
  await queue.add(data.event ?? webhookEventJob.name, data, { jobId: jobIdOf(data) });
}

/** Enqueue many stored rows at once (one round trip); rows that already have a job are left as they are. */
export async function enqueueWebhookEvents(queue: WebhookQueue, rows: readonly WebhookJobData[]): Promise<void> {
  if (rows.length === 0) return;
  await queue.addBulk(
    rows.map((data) => ({ name: data.event ?? webhookEventJob.name, data, opts: { jobId: jobIdOf(data) } })),
  );
}

/**
 * Enqueue the rows one INSERT committed: one batch job for all of them (a lone row gets its per-row
 * job). Batch jobs get BullMQ's own ids, so two batches never share one; a row in two batches (a
 * redelivery while it was pending) is applied once and skipped by the other.
 */
export async function enqueueWebhookBatch(queue: WebhookQueue, rows: readonly WebhookJobData[]): Promise<void> {
  if (rows.length <= 1) return enqueueWebhookEvents(queue, rows);
  const rowIds = rows.map((r) => r.rowId);
  const job = await queue.add(webhookBatchJob.name, { rowIds });
  // So the outbox sweeper can tell these rows have a job by reading only their id range. A crash
  // before this line leaves the rows to the sweeper, which gives them jobs of their own: applied once.
  if (job.id) await recordBatchMembership(queue, job.id, rowIds);
}

/**
 * The rows of every batch job that may still run (waiting, delayed, running, or stalled and put back):
 * they have a job, though not one under their own id. A failed or completed batch covers nothing.
 */
export async function rowsInLiveBatches(queue: WebhookQueue): Promise<Set<string>> {
  const rows = new Set<string>();
  const jobs = await queue.getJobs(['wait', 'active', 'delayed', 'prioritized']);
  for (const job of jobs) {
    const ids = job?.name === webhookBatchJob.name ? (job.data as Partial<WebhookBatchData>).rowIds : undefined;
    if (Array.isArray(ids)) for (const id of ids) rows.add(id);
  }
  return rows;
}

/**
 * Make sure each row has a live job: add the missing ones, retry finished ones. Safe to run from
 * many processes at once (job ids derive from row ids). The outbox sweeper and `make replay` use it.
 */
export async function ensureWebhookJobs(
  queue: WebhookQueue,
  rows: readonly WebhookJobData[],
): Promise<EnsureJobsResult> {
  return ensureJobs(
    queue,
    rows.map((data) => ({ name: data.event ?? webhookEventJob.name, data, jobId: jobIdOf(data) })),
  );
}
