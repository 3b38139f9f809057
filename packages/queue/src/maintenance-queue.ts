import type { Queue } from 'bullmq';
import { retentionJob, sweepPendingJob, tenantSyncJob, type HousekeepingJobData } from './jobs';
import { queueFactory } from './queue-factory';
import { scheduleSingleton } from './singleton-schedule';

/** The outbox sweeper, one run at a time across all processes. */
export const MAINTENANCE_QUEUE = sweepPendingJob.queue;
/** Retention, one run at a time across all processes: a queue of its own, so a long run never holds off the sweeper. */
export const RETENTION_QUEUE = retentionJob.queue;

export type HousekeepingQueue = Queue<HousekeepingJobData>;

export const createMaintenanceQueue = queueFactory<HousekeepingJobData>(MAINTENANCE_QUEUE);
export const createRetentionQueue = queueFactory<HousekeepingJobData>(RETENTION_QUEUE);

/** The tenant sync (agents and numbers from Retell), one run at a time across all processes. */
export const TENANTS_QUEUE = tenantSyncJob.queue;

export const createTenantsQueue = queueFactory<HousekeepingJobData>(TENANTS_QUEUE);

/**
 * The tenant sync once a day, and once now: every worker asks at start, but the job id is the current
 * ten minutes, so a fleet starting together syncs once (and the daily scheduler never runs beside it:
 * the queue's global concurrency is 1).
 */
export async function scheduleTenantSync(queue: HousekeepingQueue, now = Date.now()): Promise<void> {
  await scheduleSingleton(queue, tenantSyncJob.name, 24 * 3600_000, tenantSyncJob.name, {});
  await queue.add(
    tenantSyncJob.name,
    {},
    {
      jobId: `tenant-sync-start-${Math.floor(now / 600_000)}`,
      attempts: 3,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: { count: 200 },
      removeOnFail: { count: 200 },
    },
  );
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
