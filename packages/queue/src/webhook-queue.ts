import { Queue, type JobsOptions } from 'bullmq';
import type { RedisConnection } from './connection';

/** Name of the queue that carries one job per stored webhook_events row. */
export const WEBHOOK_QUEUE = 'webhooks';

export interface WebhookJobData {
  /** webhook_events.id; the row, not the job, holds the payload. */
  rowId: string;
  /** For logs and Bull Board only. */
  callId?: string;
  event?: string;
}

/**
 * The job id for a row. Deriving it from the row id makes a re-add a no-op while the job exists.
 * BullMQ ids must not be bare integers or contain ':'.
 */
export function webhookJobId(rowId: string): string {
  return `evt-${rowId}`;
}

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

export type WebhookQueue = Queue<WebhookJobData>;

/** Bounded retention so Redis memory stays flat; Postgres keeps the history. */
export function webhookJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
  };
}

export function createWebhookQueue(o: WebhookQueueOptions): WebhookQueue {
  return new Queue<WebhookJobData>(o.name ?? WEBHOOK_QUEUE, {
    connection: o.connection,
    prefix: o.prefix,
    defaultJobOptions: webhookJobOptions(o.attempts, o.backoffMs),
  });
}

/** Enqueue the job for a stored row; a second call for the same row is a no-op. */
export async function enqueueWebhookEvent(queue: WebhookQueue, data: WebhookJobData): Promise<void> {
  await queue.add(data.event ?? 'event', data, { jobId: webhookJobId(data.rowId) });
}

/** Enqueue many stored rows at once (one round trip); rows that already have a job are left as they are. */
export async function enqueueWebhookEvents(queue: WebhookQueue, rows: readonly WebhookJobData[]): Promise<void> {
  if (rows.length === 0) return;
  await queue.addBulk(rows.map((data) => ({ name: data.event ?? 'event', data, opts: { jobId: webhookJobId(data.rowId) } })));
}
