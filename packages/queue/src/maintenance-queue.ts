import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { scheduleSingleton } from './singleton-schedule';

/** The outbox sweeper, one run at a time across all processes. */
export const MAINTENANCE_QUEUE = 'maintenance';
/** Retention, one run at a time across all processes: a queue of its own, so a long run never holds off the sweeper. */
export const RETENTION_QUEUE = 'retention';

export type MaintenanceTask = 'sweep-pending' | 'retention';

export interface MaintenanceJobData {
  task: MaintenanceTask;
}

export type MaintenanceQueue = Queue<MaintenanceJobData>;

export function createMaintenanceQueue(
  connection: RedisConnection,
  prefix: string,
  name = MAINTENANCE_QUEUE,
): MaintenanceQueue {
  return new Queue<MaintenanceJobData>(name, { connection, prefix });
}

export function createRetentionQueue(
  connection: RedisConnection,
  prefix: string,
  name = RETENTION_QUEUE,
): MaintenanceQueue {
  return new Queue<MaintenanceJobData>(name, { connection, prefix });
}

/** The outbox sweeper every `sweepEveryMs` on the maintenance queue, retention once a day on its own. */
export async function scheduleMaintenance(
  maintenance: MaintenanceQueue,
  retention: MaintenanceQueue,
  sweepEveryMs: number,
): Promise<void> {
  await scheduleSingleton(maintenance, 'sweep-pending', sweepEveryMs, 'sweep-pending', { task: 'sweep-pending' });
  // Retention ran on the maintenance queue before it had its own; that scheduler must not run it twice.
  await maintenance.removeJobScheduler('retention');
  await scheduleSingleton(retention, 'retention', 24 * 3600_000, 'retention', { task: 'retention' });
}
