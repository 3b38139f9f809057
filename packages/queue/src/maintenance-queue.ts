import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import { scheduleSingleton } from './singleton-schedule';

/** Periodic housekeeping jobs (the outbox sweeper), one at a time across all processes. */
export const MAINTENANCE_QUEUE = 'maintenance';

export type MaintenanceTask = 'sweep-pending';

export interface MaintenanceJobData {
  task: MaintenanceTask;
}

export type MaintenanceQueue = Queue<MaintenanceJobData>;

export function createMaintenanceQueue(connection: RedisConnection, prefix: string, name = MAINTENANCE_QUEUE): MaintenanceQueue {
  return new Queue<MaintenanceJobData>(name, { connection, prefix });
}

/** The outbox sweeper every `sweepEveryMs`. */
export async function scheduleMaintenance(queue: MaintenanceQueue, sweepEveryMs: number): Promise<void> {
  await scheduleSingleton(queue, 'sweep-pending', sweepEveryMs, 'sweep-pending', { task: 'sweep-pending' });
}
