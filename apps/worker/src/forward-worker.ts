import { DelayedError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import { type Db } from '@callsync/db';
import { findDestination, findLeasedDeliveries, type ForwardHead } from '@callsync/db/forward';
import { forwardDelivery, SecretKeyError, type ForwardOutcome, type SecretKeyring } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import {
  addForwardJobs,
  enqueueForwards,
  forwardDeliveryJob,
  FRONT_OF_LINE,
  TurnCounter,
  type ForwardJobData,
  type ForwardQueue,
  type RedisConnection,
} from '@callsync/queue';
import { ForwardGate, type GateLimits } from './forward-gate';
import { createQueueWorker, queueWorkerBasics, TAKEOVER_LOCK_SETTINGS } from './queue-worker';

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
  /** The breaker's first cool-down before its probe (doubling up to 1 h). Default 30 s. */
  breakerCooldownMs?: number;
  /** How long a destination's limits and state are cached per process. Default 2000 ms. */
  settingsCacheMs?: number;
  /** A claimed delivery's lease, kept alive while it is sent. Default SEND_LEASE_MS (tests shorten it). */
  leaseMs?: number;
}

/**
 * The job that hands a chain on to its next delivery, once `from` (in its `generation`: its replay
 * count) is finished. Its id is its own, never the next delivery's `fwd-<id>`: that job may still be
 * finishing a run that found `from` unfinished, and re-adding an id that exists does nothing, so the
 * chain would wait for the sweeper. A second live job for one delivery is harmless: claims are
 * serialized by the row's lease.
 */
export async function handOff(
  queue: ForwardQueue,
  from: { id: string; generation: number },
  next: ForwardHead,
): Promise<void> {
  await addForwardJobs(queue, [next], (h) => `fwd-${h.id}-after-${from.id}-${from.generation}`);
}

/**
 * The job for an open breaker's next probe, at the front of its destination's line: the probe is
 * what ends the breaker, and behind the line it would wait for every other destination's turns (a
 * run of `make chaos` kept a breaker open for minutes after its receiver was back). Its id is its
 * own (`after` the attempt that armed it, in its replay generation): the delivery's usual job may
 * still be queued far back.
 */
export async function enqueueProbe(
  queue: ForwardQueue,
  after: { deliveryId: string; generation: number; attempt: number },
  probe: ForwardHead,
): Promise<void> {
  const id = (h: ForwardHead) => `fwd-${h.id}-probe-after-${after.deliveryId}-${after.generation}-${after.attempt}`;
  await addForwardJobs(queue, [probe], id, { front: true });
}

/** Each destination's limits and whether it is active, read at most every `ttlMs` per process. */
function destinationLimits(db: Db, ttlMs: number) {
  const cache = new Map<string, { at: number; value: Promise<(GateLimits & { active: boolean }) | undefined> }>();
  return (id: string) => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const value = findDestination(db, id).then((d) =>
      d
        ? { perSecond: d.rate_limit_per_second, maxInFlight: d.max_in_flight, active: d.state === 'active' }
        : undefined,
    );
    // A failed read is not cached: the next job asks again.
    value.catch(() => cache.delete(id));
    cache.set(id, { at: Date.now(), value });
    return value;
  };
}

/**
 * Sends deliveries to the team's destinations: one attempt per run. Before the claim, the
 * destination's rate and in-flight limits are checked in Redis (ForwardGate); over either, the job
 * goes back to delayed without touching Postgres. A retry moves the same job back to delayed until
 * the attempt is due (the row in Postgres keeps the count). A delivery that failed for good fails its
 * job, so Bull Board lists it with its error. When a delivery is finished, the next one of its chain
 * (same destination and call) is handed a job, so each call's deliveries arrive in order.
 */
export function createForwardWorker(options: ForwardWorkerOptions): Worker<ForwardJobData, ForwardOutcome> {
  // A slot is renewed (every 3 s) while its job runs, so one taken by a worker that died (SIGKILL,
  // a frozen process) is free again within 10 s; long enough that a busy event loop renews in time.
  // The gate only paces; the row's lease is what keeps two senders off one delivery.
  const gate = new ForwardGate(options.connection, options.prefix, 10_000, options.timeoutMs);
  const limitsOf = destinationLimits(options.db, options.settingsCacheMs ?? 2_000);
  const leased = (destinationId: string) => () => findLeasedDeliveries(options.db, destinationId);
  const delay = async (job: Job<ForwardJobData>, token: string | undefined, at: number): Promise<never> => {
    if (!token) throw new Error('a forward job without a lock token cannot be delayed');
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  };
  const handle = async (data: ForwardJobData, job: Job<ForwardJobData>, token?: string): Promise<ForwardOutcome> => {
    // Jobs carry their destination (a job from before that does not goes straight to its claim).
    const destinationId = data.destinationId;
    const limits = destinationId === undefined ? undefined : await limitsOf(destinationId);
    // A paused or removed destination's delivery goes straight to its claim, which holds or cancels it.
    const gated = destinationId !== undefined && limits?.active === true;
    const member = job.id ?? `fwd-${data.deliveryId}`;
    if (gated) {
      const waitMs = await gate.admit(destinationId, member, limits, leased(destinationId));
      if (waitMs > 0) {
        options.metrics?.forwardGateWaits.inc({ destination: destinationId });
        return delay(job, token, Date.now() + waitMs);
      }
    }
    /** Metrics and logs of an attempt, as soon as it is recorded. */
    const report = (outcome: ForwardOutcome): ForwardOutcome => {
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
        const fields = {
          ...ctx,
          attempt: a.attempt,
          status_code: a.statusCode,
          latency_ms: Math.round(a.latencyMs),
          ...(a.probe ? { probe: true } : {}),
        };
        if (outcome.kind === 'delivered') options.logger.info('forwarded', fields);
        else
          options.logger.warn(
            outcome.kind === 'failed' ? 'forward failed for good' : 'forward attempt failed; will retry',
            {
              ...fields,
              error: a.error,
            },
          );
        if (a.breaker === 'open')
          options.logger.error(
            a.probe
              ? 'destination probe failed; its circuit breaker stays open and probes again later'
              : 'destination paused by its circuit breaker; its deliveries are held until a probe succeeds',
            { destination_id: a.destinationId },
          );
        if (a.breaker === 'gone')
          options.logger.error('destination answered 410 Gone: paused until resumed', {
            destination_id: a.destinationId,
          });
        if (a.breaker === 'close')
          options.logger.info('destination probe succeeded; circuit breaker closed, held deliveries released', {
            destination_id: a.destinationId,
          });
      }
      return outcome;
    };
    const send = async (slot?: { take: () => Promise<boolean>; done: (latencyMs: number) => Promise<void> }) =>
      report(
        await forwardDelivery(options.db, options.keys, data.deliveryId, {
          timeoutMs: options.timeoutMs,
          retrySchedule: options.retrySchedule,
          breakerCooldownMs: options.breakerCooldownMs,
          leaseMs: options.leaseMs,
          beforeSend: slot?.take,
          onAnswered: slot?.done,
        }),
      );
    let outcome: ForwardOutcome;
    try {
      // Admitted, the delivery is claimed; its slot is taken for the send, renewed while the
      // receiver answers, and given back as soon as it did.
      outcome = gated
        ? await gate.holding(destinationId, member, data.deliveryId, limits.maxInFlight, leased(destinationId), send)
        : await send();
    } catch (err) {
      // The operator's to fix (a key missing from CALLSYNC_SECRET_KEY_PREVIOUS): said loudly, while
      // the delivery waits unsent.
      if (err instanceof SecretKeyError)
        options.logger.error('forward not sent', { delivery_id: data.deliveryId, error: err.message });
      throw err;
    }
    // The chain heads a closing breaker released: each takes its place in its destination's line
    // (forward-turns.ts), so a backlog released at once goes behind the turns of destinations that
    // have little waiting, not in front of their fresh deliveries.
    if (outcome.enqueue?.length) await enqueueForwards(options.forwardQueue, outcome.enqueue);
    if (outcome.probe && 'attempt' in outcome && outcome.attempt)
      await enqueueProbe(
        options.forwardQueue,
        { deliveryId: data.deliveryId, generation: outcome.attempt.generation, attempt: outcome.attempt.attempt },
        outcome.probe,
      );
    if ((outcome.kind === 'delivered' || outcome.kind === 'failed') && outcome.next)
      await handOff(
        options.forwardQueue,
        { id: data.deliveryId, generation: outcome.attempt.generation },
        outcome.next,
      );
    if (outcome.kind === 'later') {
      // The attempt opened the breaker (or its probe failed and re-opened it) and will be retried:
      // this delivery is the probe, and its job goes to the front of the line when it is due.
      if (outcome.attempt?.breaker === 'open') await job.changePriority({ priority: FRONT_OF_LINE });
      return delay(job, token, outcome.at.getTime());
    }
    if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.error);
    return outcome;
  };
  const worker = createQueueWorker({
    ...queueWorkerBasics(options),
    job: forwardDeliveryJob,
    handle,
    failedLevel: 'debug',
    describe: (job) => ({ delivery_id: job.data.deliveryId }),
    // A worker killed holds every job it had taken (up to FORWARD_CONCURRENCY, most of them waiting
    // for Postgres on a busy machine) until their locks expire and a stalled check finds them. A job
    // run twice waits on the row's lease (kept alive by its sender, SEND_LEASE_MS) while the first
    // run holds it. (A sender whose renewals stall past the lease does not send on it; one whose
    // request was already out may be followed by a second send under the same webhook-id: at least
    // once, never recorded over another claim.)
    settings: TAKEOVER_LOCK_SETTINGS,
  });
  // A job that leaves the queue (done, or failed for good) gives up its place in its destination's
  // line; one moved back to delayed (a retry, a wait at the gate) keeps it.
  const turns = new TurnCounter(options.forwardQueue);
  const left = (job: Job<ForwardJobData> | undefined) => {
    if (job?.data.destinationId !== undefined) turns.leave(job.data.destinationId);
  };
  worker.on('completed', left);
  worker.on('failed', (job) => {
    if (job?.finishedOn) left(job);
  });
  worker.on('closed', () => void turns.flush().catch(() => undefined));
  return worker;
}
