import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { classifyDatabaseError, type Db } from '@callsync/db';
import { findEventsToReplay, recordWebhookEventFailure } from '@callsync/db/events';
import { type ForwardHead } from '@callsync/db/forward';
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
  ensureWebhookJobs,
  webhookBatchJob,
  webhookEventJob,
  webhookJobData,
  type ForwardQueue,
  type RedisConnection,
  type WebhookBatchData,
  type WebhookJobData,
  type WebhookQueue,
} from '@callsync/queue';
import { settle } from '@callsync/runtime';
import { EventBatcher } from './event-batcher';
import { createQueueWorker, queueWorkerBasics, TAKEOVER_LOCK_SETTINGS } from './queue-worker';

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
  /**
   * The webhook queue itself (`queueName`): a row a batch job could not apply gets its own job here.
   * Without it, a batch with such a row fails (after its attempts), and its rows wait for the outbox
   * sweeper.
   */
  webhookQueue?: WebhookQueue;
  /** Start fetching at once. Default true. */
  autorun?: boolean;
}

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

/** What a batch job reports: its rows by outcome. */
export interface BatchOutcome {
  rows: number;
  processed: number;
  skipped: number;
  /** Rows applied before (by another job, or a redelivery's batch). */
  already: number;
  /** Rows the batch could not apply, handed to jobs of their own. */
  handedOff: number;
}

type WebhookWorkerData = WebhookJobData | WebhookBatchData;

const isBatch = (data: WebhookWorkerData): data is WebhookBatchData => Array.isArray(data.rowIds);

/**
 * The BullMQ worker for webhook jobs. A per-row job applies its row in one transaction. A failure is
 * written to the row: it stays `pending` while retries remain and becomes `failed` after the last
 * attempt, or at once when no retry can fix it. A batch job applies its rows (through the same
 * batcher, so together with the other jobs in flight) and hands each row that failed to a per-row
 * job, which then retries it and records the failure as above.
 */
export function createWebhookWorker(
  options: WebhookWorkerOptions,
): Worker<WebhookWorkerData, ProcessOutcome | BatchOutcome> {
  const handlers = options.handlers ?? defaultHandlers;
  const batcher = new EventBatcher(options.db, handlers);

  /** Counted and logged like a per-row job; its forwards are returned for one enqueue. */
  const applied = (result: ProcessOutcome, ctx: Record<string, unknown>, started: number) => {
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
    return result.outcome === 'processed' ? result.forwards : [];
  };

  const enqueueHeads = async (forwards: readonly ForwardHead[], ctx: Record<string, unknown>) => {
    if (!forwards.length || !options.forwardQueue) return;
    // Committed already: if Redis cannot take the jobs now, the sweeper adds them later.
    await enqueueForwards(options.forwardQueue, forwards).catch((err: Error) =>
      options.logger.warn('could not enqueue forwards; the sweeper will', { ...ctx, err: err.message }),
    );
  };

  const handleBatch = async (data: WebhookBatchData, job: Job<WebhookWorkerData>): Promise<BatchOutcome> => {
    const started = performance.now();
    const ctx = { job_id: job.id, rows: data.rowIds.length, attempt: job.attemptsMade + 1 };
    const settled = await Promise.all(data.rowIds.map((id) => settle(batcher.submit(id))));
    const outcome: BatchOutcome = { rows: data.rowIds.length, processed: 0, skipped: 0, already: 0, handedOff: 0 };
    const forwards: ForwardHead[] = [];
    const failed: string[] = [];
    settled.forEach((s, i) => {
      const rowId = data.rowIds[i]!;
      if (!s.ok) {
        failed.push(rowId);
        options.logger.info('event not applied in its batch; handing it to a job of its own', {
          ...ctx,
          row_id: rowId,
          error: s.error instanceof Error ? s.error.message : String(s.error),
        });
        return;
      }
      if (s.value.outcome === 'already_final') outcome.already += 1;
      else outcome[s.value.outcome] += 1;
      forwards.push(...applied(s.value, { ...ctx, row_id: rowId }, started));
    });
    await enqueueHeads(forwards, ctx);
    if (failed.length) {
      // Their own jobs retry them with backoff and record the error on the row and in Bull Board. If
      // this throws (Redis or Postgres down), the batch job is retried: its applied rows are skipped.
      if (!options.webhookQueue)
        throw new Error(`${failed.length} rows of the batch failed and no queue was given to retry them on`);
      const rows = await findEventsToReplay(options.db, {
        statuses: ['pending', 'failed'],
        eventIds: failed,
        limit: failed.length,
      });
      await ensureWebhookJobs(options.webhookQueue, rows.map(webhookJobData));
      outcome.handedOff = rows.length;
    }
    return outcome;
  };

  const handleRow = async (_data: WebhookJobData, job: Job<WebhookJobData>): Promise<ProcessOutcome> => {
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
      await enqueueHeads(applied(result, ctx, started), ctx);
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

  const handle = async (
    data: WebhookWorkerData,
    job: Job<WebhookWorkerData>,
  ): Promise<ProcessOutcome | BatchOutcome> => {
    if (isBatch(data)) return handleBatch(data, job);
    return handleRow(data, job as Job<WebhookJobData>);
  };

  return createQueueWorker<WebhookWorkerData, ProcessOutcome | BatchOutcome>({
    ...queueWorkerBasics(options),
    job: webhookEventJob,
    otherJobs: [webhookBatchJob],
    handle,
    failedLevel: 'debug',
    describe: (job) => (isBatch(job.data) ? { rows: job.data.rowIds.length } : { row_id: job.data.rowId }),
    settings: { autorun: options.autorun ?? true, ...TAKEOVER_LOCK_SETTINGS },
  });
}
