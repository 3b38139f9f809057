import type { Worker } from 'bullmq';
import type { RetentionPolicy } from '@callsync/config';
import type { Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import {
  MAINTENANCE_QUEUE,
  RETENTION_QUEUE,
  type MaintenanceJobData,
  type RedisConnection,
  type WebhookQueue,
} from '@callsync/queue';
import { createQueueWorker } from './queue-worker';
import { applyRetention, type RetentionResult } from './retention';
import { sweepPendingEvents, type SweepResult } from './sweeper';

interface HousekeepingOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  prefix: string;
  /** Default: the task's own queue. */
  queueName?: string;
}

export interface MaintenanceWorkerOptions extends HousekeepingOptions {
  /** Where the sweeper re-enqueues pending rows. */
  webhookQueue: WebhookQueue;
  sweepPendingAfterMs: number;
}

export interface RetentionWorkerOptions extends HousekeepingOptions {
  retention: RetentionPolicy;
}

function housekeepingWorker<R>(
  options: HousekeepingOptions,
  defaultQueue: string,
  run: (task: MaintenanceJobData['task']) => Promise<R | undefined>,
): Worker<MaintenanceJobData, R | undefined> {
  return createQueueWorker<MaintenanceJobData, R | undefined>({
    queueName: options.queueName ?? defaultQueue,
    processor: async (job) => run(job.data.task),
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
    describe: (job) => ({ task: job.data.task }),
  });
}

/** Runs the outbox sweeper's scheduled jobs. */
export function createMaintenanceWorker(
  options: MaintenanceWorkerOptions,
): Worker<MaintenanceJobData, SweepResult | undefined> {
  return housekeepingWorker(options, MAINTENANCE_QUEUE, async (task) => {
    if (task === 'sweep-pending')
      return sweepPendingEvents(options.db, options.webhookQueue, options.logger, {
        pendingAfterMs: options.sweepPendingAfterMs,
      });
    // A retention job left on this queue by a version that ran it here: its own queue runs retention now.
    options.logger.info(`${task} job on the maintenance queue ignored; it runs on its own queue`);
    return undefined;
  });
}

/** Runs retention's scheduled jobs, on a queue of their own. */
export function createRetentionWorker(
  options: RetentionWorkerOptions,
): Worker<MaintenanceJobData, RetentionResult | undefined> {
  return housekeepingWorker(options, RETENTION_QUEUE, async () =>
    applyRetention(options.db, options.logger, options.retention),
  );
}
