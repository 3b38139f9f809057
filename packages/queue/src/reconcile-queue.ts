import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';

/** Queue of the scheduled reconciliation pass; one job per interval. */
export const RECONCILE_QUEUE = 'reconcile';
const SCHEDULER_ID = 'reconcile-stale-sessions';

export interface ReconcileJobData {
  trigger: 'scheduled';
}

export type ReconcileQueue = Queue<ReconcileJobData>;

export function createReconcileQueue(connection: RedisConnection, prefix: string, name = RECONCILE_QUEUE): ReconcileQueue {
  return new Queue<ReconcileJobData>(name, { connection, prefix });
}

/**
 * Register (or update) the job scheduler, every `everyMs`. Idempotent, so every worker process
 * calls it at start. Global concurrency 1 on this queue means one pass at a time across all
 * processes: a slow pass delays the next instead of overlapping it.
 */
export async function scheduleReconcile(queue: ReconcileQueue, everyMs: number): Promise<void> {
  await queue.setGlobalConcurrency(1);
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: Math.max(1000, Math.round(everyMs)) },
    {
      name: 'reconcile',
      data: { trigger: 'scheduled' },
      opts: { attempts: 1, removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
    },
  );
}
