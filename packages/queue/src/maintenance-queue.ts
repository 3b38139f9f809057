import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { retentionJob, sweepPendingJob, type HousekeepingJobData } from './jobs';
import { scheduleSingleton } from './singleton-schedule';

/** The outbox sweeper, one run at a time across all processes. */
export const MAINTENANCE_QUEUE = sweepPendingJob.queue;
/** Retention, one run at a time across all processes: a queue of its own, so a long run never holds off the sweeper. */
export const RETENTION_QUEUE = retentionJob.queue;

export type HousekeepingQueue = Queue<HousekeepingJobData>;

export function createMaintenanceQueue(
  connection: RedisConnection,
  prefix: string,
  name = MAINTENANCE_QUEUE,
): HousekeepingQueue {
  return new Queue<HousekeepingJobData>(name, { connection, prefix });
}

export function createRetentionQueue(
  connection: RedisConnection,
  prefix: string,
  name = RETENTION_QUEUE,
): HousekeepingQueue {
  return new Queue<HousekeepingJobData>(name, { connection, prefix });
}

/** The outbox sweeper every `sweepEveryMs` on the maintenance queue, retention once a day on its own. */
export async function scheduleMaintenance(
  maintenance: HousekeepingQueue,
  retention: HousekeepingQueue,
  sweepEveryMs: number,
): Promise<void> {
  await scheduleSingleton(maintenance, sweepPendingJob.name, sweepEveryMs, sweepPendingJob.name, {});
  // Retention ran on the maintenance queue before it had its own; that scheduler must not run it twice.
  await maintenance.removeJobScheduler(retentionJob.name);
  await scheduleSingleton(retention, retentionJob.name, 24 * 3600_000, retentionJob.name, {});
}
