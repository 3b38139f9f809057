import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { classifyDatabaseError, recordWebhookEventFailure, type Db } from '@callsync/db';
import {
  defaultHandlers,
  PermanentEventError,
  RowBusyError,
  type HandlerRegistry,
  type ProcessOutcome,
} from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { eventLabel, type Metrics } from '@callsync/metrics';
import {
  enqueueForwards,
  webhookEventJob,
  type ForwardQueue,
  type RedisConnection,
  type WebhookJobData,
} from '@callsync/queue';
import { EventBatcher } from './event-batcher';
import { createQueueWorker } from './queue-worker';

export interface WebhookWorkerOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  metrics?: Metrics;
  prefix: string;
  /** Default WEBHOOK_QUEUE. */
  queueName?: string;
  /** Jobs in flight in this process. */
  concurrency: number;
  /** Default: call_started/call_ended/call_analyzed. */
  handlers?: HandlerRegistry;
  /** Where the deliveries an applied event queued for forwarding get their jobs. */
  forwardQueue?: ForwardQueue;
  /** Start fetching at once. Default true. */
  autorun?: boolean;
}

/**
 * A SIGKILLed worker's jobs are taken over once their lock expires and the next stalled check
 * runs: at most lockDuration + stalledInterval = 15 s. A live worker renews its locks every
 * lockDuration / 2. BullMQ's default maxStalledCount of 1 would fail a job on its second crash
 * whatever `attempts` says; a few crashes must not fail an event, so allow 5.
 */
export const WEBHOOK_LOCK_SETTINGS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 } as const;

/**
 * permanent: no retry can fix it (the event's data); fail the row at once.
 * transient: the database could not do it now, or its schema is not there yet (a deploy whose
 *   migrations still run): never the event's fault, so the row stays pending after the last attempt
 *   and the outbox sweeper retries it.
 * other: retried; the row fails after the last attempt.
 */
function failureKind(err: unknown): 'permanent' | 'transient' | 'other' {
  if (err instanceof PermanentEventError) return 'permanent';
  if (err instanceof RowBusyError) return 'transient';
  const kind = classifyDatabaseError(err);
  if (kind === 'data') return 'permanent';
  if (kind === 'transient' || kind === 'schema') return 'transient';
  return 'other';
}

/**
 * The BullMQ worker for webhook jobs. Each job applies its row in one transaction. A failure is
 * written to the row: it stays `pending` while retries remain and becomes `failed` after the last
 * attempt, or at once when no retry can fix it.
 */
export function createWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJobData, ProcessOutcome> {
  const handlers = options.handlers ?? defaultHandlers;
  const batcher = new EventBatcher(options.db, handlers);
  const handle = async (_data: WebhookJobData, job: Job<WebhookJobData>): Promise<ProcessOutcome> => {
    const attempt = job.attemptsMade + 1;
    const ctx = {
      ...(job.data.chatId ? { chat_id: job.data.chatId } : { call_id: job.data.callId }),
      event: job.data.event,
      row_id: job.data.rowId,
      job_id: job.id,
      attempt,
    };
    const started = performance.now();
    try {
      const result = await batcher.submit(job.data.rowId);
      if (result.outcome === 'processed' && result.forwards.length && options.forwardQueue) {
        // Committed already: if Redis cannot take the jobs now, the sweeper adds them later.
        await enqueueForwards(options.forwardQueue, result.forwards).catch((err: Error) =>
          options.logger.warn('could not enqueue forwards; the sweeper will', { ...ctx, err: err.message }),
        );
      }
      options.metrics?.eventsHandled.inc({ event: eventLabel(result.eventType), outcome: result.outcome });
      options.metrics?.processingDuration.observe(
        { event: eventLabel(result.eventType) },
        (performance.now() - started) / 1000,
      );
      options.logger.info(`event ${result.outcome}`, {
        ...ctx,
        ...(result.chatId ? { chat_id: result.chatId } : { call_id: result.callId }),
        event: result.eventType,
        duration_ms: Math.round(performance.now() - started),
      });
      return result;
    } catch (err) {
      const kind = failureKind(err);
      const permanent = kind === 'permanent';
      const final = permanent || (attempt >= (job.opts.attempts ?? 1) && kind === 'other');
      const message = err instanceof Error ? err.message : String(err);
      try {
        await recordWebhookEventFailure(options.db, job.data.rowId, message, final);
      } catch (recordErr) {
        // The row stays pending; the retry (or the outbox sweeper) will come back to it.
        options.logger.error('could not record the failure on the row', { ...ctx, err: recordErr });
      }
      options.metrics?.eventsHandled.inc({ event: eventLabel(job.data.event), outcome: final ? 'failed' : 'retry' });
      if (classifyDatabaseError(err) === 'schema') {
        // A missing table or column: a deploy in progress, or a database that was never migrated.
        options.logger.error('event attempt failed on the database schema (are migrations applied?); will retry', {
          ...ctx,
          error: message,
          code: (err as { code?: string }).code,
        });
      } else {
        options.logger.warn(final ? 'event failed for good' : 'event attempt failed; will retry', {
          ...ctx,
          kind,
          error: message,
        });
      }
      if (permanent) throw new UnrecoverableError(message);
      throw err;
    }
  };

  return createQueueWorker({
    job: webhookEventJob,
    queueName: options.queueName,
    handle,
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: options.concurrency,
    failedLevel: 'debug',
    describe: (job) => ({ row_id: job.data.rowId }),
    settings: { autorun: options.autorun ?? true, ...WEBHOOK_LOCK_SETTINGS },
  });
}
