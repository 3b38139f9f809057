import { Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Logger } from '@callsync/logger';
import type { RedisConnection } from '@callsync/queue';

export interface QueueWorkerOptions<D, R> {
  queueName: string;
  processor: (job: Job<D>) => Promise<R>;
  connection: RedisConnection;
  prefix: string;
  logger: Logger;
  concurrency: number;
  /**
   * How a failed job is logged. Webhook jobs log their own failures (with the row) and retry, so theirs
   * is debug; a failed reconciliation pass or housekeeping run is an error. Default 'error'.
   */
  failedLevel?: 'debug' | 'error';
  /** What the failure log line says about a job besides its id. */
  describe?: (job: Job<D>) => Record<string, unknown>;
  /** More BullMQ settings (lock duration, autorun). */
  settings?: Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency'>;
}

/** Every BullMQ worker callsync runs, with the same error and failure logging. */
export function createQueueWorker<D, R>(options: QueueWorkerOptions<D, R>): Worker<D, R> {
  const worker = new Worker<D, R>(options.queueName, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    ...options.settings,
  });
  worker.on('error', (err) => options.logger.error(`${options.queueName} worker error`, { err: err.message }));
  worker.on('failed', (job, err) => {
    options.logger.log(options.failedLevel ?? 'error', `${options.queueName} job failed`, {
      job_id: job?.id,
      attempt: job?.attemptsMade,
      ...(job && options.describe ? options.describe(job) : {}),
      error: err.message,
    });
  });
  return worker;
}
