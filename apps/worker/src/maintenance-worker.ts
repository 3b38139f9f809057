import { Worker } from 'bullmq';
import type { RetentionPolicy } from '@callsync/config';
import type { Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import { MAINTENANCE_QUEUE, type MaintenanceJobData, type RedisConnection, type WebhookQueue } from '@callsync/queue';
import { applyRetention, type RetentionResult } from './retention';
import { sweepPendingEvents, type SweepResult } from './sweeper';

export interface MaintenanceWorkerOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  prefix: string;
  /** Where the sweeper re-enqueues pending rows. */
  webhookQueue: WebhookQueue;
  sweepPendingAfterMs: number;
  retention: RetentionPolicy;
  /** Default MAINTENANCE_QUEUE. */
  queueName?: string;
}

/** Runs the scheduled housekeeping jobs: the outbox sweeper and retention. */
export function createMaintenanceWorker(o: MaintenanceWorkerOptions): Worker<MaintenanceJobData, SweepResult | RetentionResult> {
  const worker = new Worker<MaintenanceJobData, SweepResult | RetentionResult>(
    o.queueName ?? MAINTENANCE_QUEUE,
    async (job) => {
      switch (job.data.task) {
        case 'sweep-pending':
          return sweepPendingEvents(o.db, o.webhookQueue, o.logger, { pendingAfterMs: o.sweepPendingAfterMs });
        case 'retention':
          return applyRetention(o.db, o.logger, o.retention);
      }
    },
    { connection: o.connection, prefix: o.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => o.logger.error('maintenance worker error', { err: err.message }));
  worker.on('failed', (job, err) => o.logger.error('maintenance job failed', { job_id: job?.id, task: job?.data.task, error: err.message }));
  return worker;
}
