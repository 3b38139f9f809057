import { Queue } from 'bullmq';
import type { RedisConnection } from './connection';

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

/** Register (idempotently) the sweeper's job scheduler; global concurrency 1 keeps sweeps apart. */
export async function scheduleMaintenance(queue: MaintenanceQueue, sweepEveryMs: number): Promise<void> {
  await queue.setGlobalConcurrency(1);
  await queue.upsertJobScheduler(
    'sweep-pending',
    { every: Math.max(1000, Math.round(sweepEveryMs)) },
    { name: 'sweep-pending', data: { task: 'sweep-pending' }, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
}
