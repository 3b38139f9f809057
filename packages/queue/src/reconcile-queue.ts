import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { reconcileJob, type ReconcileJobData } from './jobs';
import { scheduleSingleton } from './singleton-schedule';

/** Queue of the scheduled reconciliation pass; one job per interval. */
export const RECONCILE_QUEUE = reconcileJob.queue;

export type ReconcileQueue = Queue<ReconcileJobData>;

export function createReconcileQueue(
  connection: RedisConnection,
  prefix: string,
  name = RECONCILE_QUEUE,
): ReconcileQueue {
  return new Queue<ReconcileJobData>(name, { connection, prefix });
}

/** The pass every `everyMs`, never two at once across all processes. */
export async function scheduleReconcile(queue: ReconcileQueue, everyMs: number): Promise<void> {
  await scheduleSingleton(queue, 'reconcile-stale-sessions', everyMs, reconcileJob.name, { trigger: 'scheduled' });
}
