import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { ensureJobs, type EnsureJobsResult } from './ensure-jobs';
import { forwardDeliveryJob, type ForwardJobData } from './jobs';

export const FORWARD_QUEUE = forwardDeliveryJob.queue;

export type ForwardQueue = Queue<ForwardJobData>;

/** A delivery's job id: re-adding it while the job exists is a no-op. */
export function forwardJobId(deliveryId: string): string {
  return `fwd-${deliveryId}`;
}

/**
 * Retries of a delivery are the forwarder's own (the delay comes from the row's attempt count and
 * the receiver's retry-after, and it survives Redis losing the job): the job is moved back to delayed
 * between attempts, which BullMQ does not count as one. Completed jobs are dropped at once (their id may be needed again after a
 * replay); failed ones, the deliveries that failed for good, stay a week for Bull Board.
 */
export function createForwardQueue(connection: RedisConnection, prefix: string, name = FORWARD_QUEUE): ForwardQueue {
  return new Queue<ForwardJobData>(name, {
    connection,
    prefix,
    defaultJobOptions: {
      // Only for errors of callsync's own (Postgres unreachable): a receiver's answers are retried
      // by the forwarder without counting here.
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
    },
  });
}

export interface ForwardJobHead {
  id: string;
  destination_id: string;
  subject: string;
  event_type: string;
}

function forwardJob(head: ForwardJobHead) {
  return {
    name: head.event_type,
    data: { deliveryId: head.id, destinationId: head.destination_id, subject: head.subject, event: head.event_type },
    jobId: forwardJobId(head.id),
  };
}

/** Jobs for chain heads just written (one round trip); existing ones are left as they are. */
export async function enqueueForwards(queue: ForwardQueue, heads: readonly ForwardJobHead[]): Promise<void> {
  if (heads.length === 0) return;
  await queue.addBulk(
    heads.map((h) => {
      const j = forwardJob(h);
      return { name: j.name, data: j.data, opts: { jobId: j.jobId } };
    }),
  );
}

/** Make sure each head has a live job (the sweeper, resume and replay). */
export async function ensureForwardJobs(
  queue: ForwardQueue,
  heads: readonly ForwardJobHead[],
): Promise<EnsureJobsResult> {
  return ensureJobs(queue, heads.map(forwardJob));
}
