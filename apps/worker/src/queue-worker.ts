import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Logger } from '@callsync/logger';
import { parseJobData, type JobDefinition, type RedisConnection } from '@callsync/queue';

/** Where a worker runs and how many jobs at once: what every worker's own options carry as they are. */
export interface QueueWorkerBasics {
  /** Default: the definition's queue (tests use their own). */
  queueName?: string;
  connection: RedisConnection;
  prefix: string;
  logger: Logger;
  concurrency: number;
}

/** The basics out of a worker's options (which carry more). */
export function queueWorkerBasics(o: QueueWorkerBasics): QueueWorkerBasics {
  return {
    queueName: o.queueName,
    connection: o.connection,
    prefix: o.prefix,
    logger: o.logger,
    concurrency: o.concurrency,
  };
}

/**
 * Lock settings for jobs a killed worker must not hold for long (webhook events, forward deliveries,
 * the sweeper, whose queue runs one job at a time): a SIGKILLed worker's jobs are taken over once
 * their lock expires and the next stalled check runs, at most lockDuration + stalledInterval = 15 s
 * (BullMQ's defaults: up to a minute). A live worker renews its locks every lockDuration / 2; a
 * shorter lock (5 s, checked every 2 s) was tried for forward jobs and a busy event loop missed
 * renewals and ran jobs twice. BullMQ's default maxStalledCount of 1 would fail a job on its second
 * crash whatever `attempts` says; a few crashes must not fail it, so allow 5.
 */
export const TAKEOVER_LOCK_SETTINGS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 } as const;

export interface QueueWorkerOptions<D, R> extends QueueWorkerBasics {
  /** The job this worker runs (queue, name, payload). */
  job: JobDefinition<D>;
  /** Other jobs on the same queue, told apart by name (each with its own payload). */
  otherJobs?: readonly JobDefinition<D>[];
  /** Runs a job whose data matched the definition's payload. */
  handle: (data: D, job: Job<D>, token?: string) => Promise<R>;
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

/**
 * Every BullMQ worker callsync runs: the job's data is checked against its definition first (data no
 * retry can fix fails at once), and errors and failures are logged the same way.
 */
export function createQueueWorker<D, R>(options: QueueWorkerOptions<D, R>): Worker<D, R> {
  const queueName = options.queueName ?? options.job.queue;
  const processor = async (job: Job<D>, token?: string): Promise<R> => {
    let data: D;
    const definition = options.otherJobs?.find((d) => d.name === job.name) ?? options.job;
    try {
      data = parseJobData(definition, job.id, job.data);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    return options.handle(data, job, token);
  };
  const worker = new Worker<D, R>(queueName, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    ...options.settings,
  });
  worker.on('error', (err) => options.logger.error(`${queueName} worker error`, { err: err.message }));
  worker.on('failed', (job, err) => {
    options.logger.log(options.failedLevel ?? 'error', `${queueName} job failed`, {
      job_id: job?.id,
      attempt: job?.attemptsMade,
      ...(job && options.describe ? options.describe(job) : {}),
      error: err.message,
    });
  });
  return worker;
}
