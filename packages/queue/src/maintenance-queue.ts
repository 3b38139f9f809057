import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { scheduleSingleton } from './singleton-schedule';

/** Periodic housekeeping jobs (the outbox sweeper), one at a time across all processes. */
export const MAINTENANCE_QUEUE = 'maintenance';

export type MaintenanceTask = 'sweep-pending' | 'retention';

export interface MaintenanceJobData {
  task: MaintenanceTask;
}

export type MaintenanceQueue = Queue<MaintenanceJobData>;

export function createMaintenanceQueue(connection: RedisConnection, prefix: string, name = MAINTENANCE_QUEUE): MaintenanceQueue {
  return new Queue<MaintenanceJobData>(name, { connection, prefix });
}

/** The outbox sweeper every `sweepEveryMs`, and retention once a day. */
export async function scheduleMaintenance(queue: MaintenanceQueue, sweepEveryMs: number): Promise<void> {
  await scheduleSingleton(queue, 'sweep-pending', sweepEveryMs, 'sweep-pending', { task: 'sweep-pending' });
  await scheduleSingleton(queue, 'retention', 24 * 3600_000, 'retention', { task: 'retention' });
}
