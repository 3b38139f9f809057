import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { ensureJobs, type EnsureJobsResult } from './ensure-jobs';
import { forwardDeliveryJob, type ForwardJobData } from './jobs';
import { FRONT_OF_LINE, takeTurns } from './forward-turns';

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

/**
 * Add jobs for these heads (under `jobIdOf`'s ids; default `fwd-<id>`), each with its place in its
 * destination's line as its priority (forward-turns.ts), in two round trips; `front`: at the front
 * of the line instead (counted all the same). An id that exists already is left as it is.
 */
export async function addForwardJobs(
  queue: ForwardQueue,
  heads: readonly ForwardJobHead[],
  jobIdOf: (head: ForwardJobHead) => string = (h) => forwardJobId(h.id),
  options: { front?: boolean } = {},
): Promise<void> {
  if (heads.length === 0) return;
  const ids = heads.map(jobIdOf);
  const places = await takeTurns(
    queue,
    heads.map((h, i) => ({ destinationId: h.destination_id, jobId: ids[i]! })),
  );
  await queue.addBulk(
    heads.map((h, i) => {
      const j = forwardJob(h);
      return {
        name: j.name,
        data: j.data,
        opts: { jobId: ids[i], priority: options.front ? FRONT_OF_LINE : places[i] },
      };
    }),
  );
}

/** Jobs for chain heads just written; existing ones are left as they are. */
export async function enqueueForwards(queue: ForwardQueue, heads: readonly ForwardJobHead[]): Promise<void> {
  await addForwardJobs(queue, heads);
}

/** Make sure each head has a live job (the sweeper, resume and replay). */
export async function ensureForwardJobs(
  queue: ForwardQueue,
  heads: readonly ForwardJobHead[],
): Promise<EnsureJobsResult> {
  const destinationOf = new Map(heads.map((h) => [forwardJobId(h.id), h.destination_id]));
  return ensureJobs(queue, heads.map(forwardJob), (missing) =>
    takeTurns(
      queue,
      missing.map((m) => ({ destinationId: destinationOf.get(m.jobId)!, jobId: m.jobId })),
    ),
  );
}
