import { DelayedError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Db } from '@callsync/db';
import { forwardDelivery, SecretKeyError, type ForwardOutcome, type SecretKeyring } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import {
  enqueueForwards,
  forwardDeliveryJob,
  type ForwardJobData,
  type ForwardQueue,
  type RedisConnection,
} from '@callsync/queue';
import { createQueueWorker } from './queue-worker';

export interface ForwardWorkerOptions {
  db: Db;
  /** CALLSYNC_SECRET_KEY: decrypts the destinations' signing secrets. */
  keys: SecretKeyring;
  connection: RedisConnection;
  logger: Logger;
  metrics?: Metrics;
  prefix: string;
  /** Where the chain's next delivery is enqueued. */
  forwardQueue: ForwardQueue;
  /** Default FORWARD_QUEUE. */
  queueName?: string;
  concurrency: number;
  timeoutMs: number;
  retrySchedule: readonly number[];
}

/**
 * A per-destination rate limit across every worker: a counter per destination and second in Redis.
 * Resolves to 0 when the send may go, else the ms until the next second.
 */
function redisRateLimit(connection: RedisConnection, prefix: string) {
  return async (destinationId: string, perSecond: number): Promise<number> => {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const key = `${prefix}:forward-rate:${destinationId}:${second}`;
    const [[, count]] = (await connection.multi().incr(key).expire(key, 5).exec()) as [[Error | null, number]];
    return count <= perSecond ? 0 : (second + 1) * 1000 - now + Math.floor(Math.random() * 200);
  };
}

/**
 * Sends deliveries to the team's destinations: one attempt per run. A retry moves the same job back
 * to delayed until the attempt is due (the row in Postgres keeps the count). A delivery that failed
 * for good fails its job, so Bull Board lists it with its error. When a delivery is finished, the
 * next one of its chain (same destination and call) is enqueued, so each call's deliveries arrive in
 * order.
 */
export function createForwardWorker(options: ForwardWorkerOptions): Worker<ForwardJobData, ForwardOutcome> {
  const rateLimit = redisRateLimit(options.connection, options.prefix);
  const handle = async (data: ForwardJobData, job: Job<ForwardJobData>, token?: string): Promise<ForwardOutcome> => {
    const outcome = await forwardDelivery(options.db, options.keys, data.deliveryId, {
      timeoutMs: options.timeoutMs,
      retrySchedule: options.retrySchedule,
      rateLimit,
    }).catch((err: unknown) => {
      // The operator's to fix (a key missing from CALLSYNC_SECRET_KEY_PREVIOUS): said loudly, while
      // the delivery waits unsent.
      if (err instanceof SecretKeyError)
        options.logger.error('forward not sent', { delivery_id: data.deliveryId, error: err.message });
      throw err;
    });
    const ctx = {
      delivery_id: data.deliveryId,
      destination_id: data.destinationId,
      subject: data.subject,
      event: data.event,
    };
    if ('attempt' in outcome && outcome.attempt) {
      const a = outcome.attempt;
      const label = outcome.kind === 'later' ? 'retry' : outcome.kind;
      options.metrics?.forwardAttempts.inc({ destination: a.destinationId, outcome: label });
      options.metrics?.forwardLatency.observe({ destination: a.destinationId }, a.latencyMs / 1000);
      const fields = { ...ctx, attempt: a.attempt, status_code: a.statusCode, latency_ms: Math.round(a.latencyMs) };
      if (outcome.kind === 'delivered') options.logger.info('forwarded', fields);
      else
        options.logger.warn(
          outcome.kind === 'failed' ? 'forward failed for good' : 'forward attempt failed; will retry',
          {
            ...fields,
            error: a.error,
          },
        );
      if (a.breakerOpened)
        options.logger.error('destination paused by its circuit breaker; its deliveries are held until resumed', {
          destination_id: a.destinationId,
        });
    }
    if ((outcome.kind === 'delivered' || outcome.kind === 'failed') && outcome.next)
      await enqueueForwards(options.forwardQueue, [outcome.next]);
    if (outcome.kind === 'later') {
      if (!token) throw new Error('a forward job without a lock token cannot be delayed');
      await job.moveToDelayed(outcome.at.getTime(), token);
      throw new DelayedError();
    }
    if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.error);
    return outcome;
  };
  return createQueueWorker({
    job: forwardDeliveryJob,
    queueName: options.queueName,
    handle,
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: options.concurrency,
    failedLevel: 'debug',
    describe: (job) => ({ delivery_id: job.data.deliveryId }),
    // A crash mid-send is taken over once the lock expires; the row's lease makes the next run wait
    // for the attempt in flight to time out, so one delivery is never sent twice at once.
    settings: { lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 5 },
  });
}
