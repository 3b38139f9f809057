import type { Queue } from 'bullmq';
import { reconcileJob, type ReconcileJobData } from './jobs';
import { queueFactory } from './queue-factory';
import { scheduleSingleton } from './singleton-schedule';

/** Queue of the scheduled reconciliation pass; one job per interval. */
export const RECONCILE_QUEUE = reconcileJob.queue;

export type ReconcileQueue = Queue<ReconcileJobData>;

export const createReconcileQueue = queueFactory<ReconcileJobData>(RECONCILE_QUEUE);

/** The pass every `everyMs`, never two at once across all processes. */
export async function scheduleReconcile(queue: ReconcileQueue, everyMs: number): Promise<void> {
  await scheduleSingleton(queue, 'reconcile-stale-sessions', everyMs, reconcileJob.name, { trigger: 'scheduled' });
}
