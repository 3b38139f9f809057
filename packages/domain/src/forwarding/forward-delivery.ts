import { classifyDatabaseError, type Db } from '@callsync/db';
import {
  claimDelivery,
  extendLease,
  holdPendingDeliveries,
  recordAttempt,
  releaseDelivery,
  releaseDestination,
  type AttemptOutcome,
  type AttemptRecorded,
  type BreakerDecision,
  type BreakerView,
  type ClaimResult,
  type ForwardDestination,
  type ForwardHead,
} from '@callsync/db/forward';
import { DEFAULT_BREAKER_COOLDOWN_MS, decideBreaker } from './breaker';
import { sendDelivery, type SendResult } from './http-send';
import { randomUUID } from 'node:crypto';
import { SecretKeyError, type SecretKeyring } from '../privacy/secret-key';
import { signingSecrets } from './destinations';
import { signDelivery } from './signing';

/** Retry delays after each failed attempt (Svix-like): about a day in all, 8 attempts. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
];

/** A retry-after longer than this is not honoured beyond it. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

export interface ForwardOptions {
  /** One attempt's limit. Default 10 s. */
  timeoutMs?: number;
  /** Delay after the 1st, 2nd, ... failed attempt; its length + 1 attempts in all. */
  retrySchedule?: readonly number[];
  /** The breaker's first cool-down before its probe; it doubles with each failed probe, up to 1 h. Default 30 s. */
  breakerCooldownMs?: number;
  /**
   * Called as soon as the receiver answered (or did not), before the answer is recorded: the
   * forward worker gives the destination's in-flight slot back here, so a slot counts the exchange
   * with the receiver, not callsync's own bookkeeping. `latencyMs`: how long the receiver took (0:
   * nothing was sent).
   */
  onAnswered?: (latencyMs: number) => Promise<void>;
  /**
   * Called once the delivery is claimed, right before it is sent: false (the destination's slots are
   * all taken) gives the claim back uncounted, and the delivery is tried again shortly.
   */
  beforeSend?: () => Promise<boolean>;
  /** The claim's lease, kept alive while the attempt runs. Default SEND_LEASE_MS. */
  leaseMs?: number;
}

/**
 * A claimed delivery's lease, kept alive (renewed every third of it) while its sender works on it:
 * how long a delivery whose sender died (SIGKILL, a lost machine) waits before another sends it.
 * Its sender's BullMQ job is taken over about as soon (the forward worker's lock). A lease as long as
 * the attempt's timeout held such deliveries 20 s and more (`make chaos`, issue 28).
 */
export const SEND_LEASE_MS = 5_000;

/** How soon a delivery whose destination had no free slot after its claim is tried again. */
const BUSY_RETRY_MS = 100;

/**
 * `enqueue`: chain heads that need jobs (a closing breaker released them); `probe`: the delivery a
 * breaker that opened (or stays open) sends next, which needs a job at the front of its line.
 */
interface BreakerWork {
  enqueue?: ForwardHead[];
  probe?: ForwardHead;
}

export type ForwardOutcome =
  /** Nothing to send now (finished, held, paused, cancelled, or waiting for its chain). */
  | ({ kind: 'idle'; reason: string } & BreakerWork)
  /** Come back at `at` (a retry, a lease held by another sender, the breaker's probe time). */
  | ({ kind: 'later'; at: Date; reason: string; attempt?: AttemptReport } & BreakerWork)
  | ({ kind: 'delivered'; attempt: AttemptReport; next: ForwardHead | undefined } & BreakerWork)
  | ({ kind: 'failed'; attempt: AttemptReport; next: ForwardHead | undefined; error: string } & BreakerWork);

export interface AttemptReport {
  destinationId: string;
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** This attempt paused the destination (circuit breaker, or a 410). */
  breakerOpened: boolean;
  /** What the breaker did with this attempt. */
  breaker: BreakerDecision['kind'];
  /** The attempt was the open breaker's probe. */
  probe: boolean;
  /** The delivery's replay count: a chain is handed on once per generation. */
  generation: number;
}

type Verdict = AttemptOutcome['result'];

export interface JudgeOptions {
  /** The destination's fail_4xx: a 4xx (but 408 and 429) fails at once. */
  fail4xx?: boolean;
}

/**
 * What an answer means, as Standard Webhooks senders (Svix) do it: 2xx delivered; every other answer
 * (no answer, 3xx: redirects are not followed, 4xx, 5xx) retried on the schedule, honouring
 * retry-after, until it runs out; except 410 Gone, which fails at once (and pauses the destination),
 * a refused address, and, for a destination with fail_4xx, a 4xx other than 408 and 429.
 */
export function judgeAnswer(
  r: SendResult,
  attempt: number,
  schedule: readonly number[],
  now: number,
  options: JudgeOptions = {},
): Verdict {
  const code = r.statusCode;
  if (code !== null && code >= 200 && code < 300) return { kind: 'delivered' };
  const final =
    r.refused ||
    code === 410 ||
    (options.fail4xx === true && code !== null && code >= 400 && code < 500 && code !== 408 && code !== 429);
  if (final || attempt > schedule.length) return { kind: 'failed' };
  const delay = Math.max(schedule[attempt - 1]!, Math.min(r.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return { kind: 'retry', at: new Date(now + delay) };
}

function describeFailure(r: SendResult): string | null {
  if (r.error) return r.error;
  const code = r.statusCode;
  if (code === null || (code >= 200 && code < 300)) return null;
  if (code >= 300 && code < 400) return `answered ${code}: redirects are not followed`;
  return `answered ${code}${r.excerpt ? `: ${r.excerpt.slice(0, 200)}` : ''}`;
}

/**
 * recordAttempt, tried again on a transient error (a deadlock, a failover): the answer is in hand,
 * and not recording it would send the delivery again once its lease runs out.
 */
async function recordAnswer(
  db: Db,
  outcome: AttemptOutcome,
  decide: (d: BreakerView) => BreakerDecision,
  tries = 4,
): Promise<AttemptRecorded> {
  for (let i = 1; ; i++) {
    try {
      return await recordAttempt(db, outcome, decide);
    } catch (err) {
      if (i >= tries || classifyDatabaseError(err) !== 'transient') throw err;
      await new Promise((r) => setTimeout(r, 50 * 2 ** i));
    }
  }
}

/** Sign `body` with the destination's secrets (the previous one too, during a rotation) and send it. */
function signAndSend(
  d: ForwardDestination,
  secrets: readonly string[],
  messageId: string,
  body: string,
  timeoutMs: number,
  at: Date,
): Promise<SendResult> {
  return sendDelivery({
    url: d.url,
    body,
    headers: { ...signDelivery(secrets, messageId, at, body) },
    timeoutMs,
    allowLinkLocal: d.allow_link_local,
    allowPrivate: d.allow_private,
  });
}

/**
 * One attempt at a delivery: claim it (it must be pending, its destination active or it the open
 * breaker's due probe, and it the head of its chain), sign it, send it, and record the answer with
 * what follows from it (the next attempt's time, a failure, the breaker, the chain's next head).
 * The destination's rate and in-flight limits are the caller's to check before (the forward worker
 * does, in Redis): this claims in Postgres at once.
 */
export async function forwardDelivery(
  db: Db,
  keys: SecretKeyring,
  deliveryId: string,
  options: ForwardOptions = {},
): Promise<ForwardOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const schedule = options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS;
  const leaseMs = options.leaseMs ?? SEND_LEASE_MS;
  const claim = await claimDelivery(db, deliveryId, leaseMs);
  if (claim.kind !== 'send') return notSent(claim);
  const lease = keepLease(db, deliveryId, claim.delivery.attempts, leaseMs);
  try {
    return await attempt(db, keys, claim, lease, { ...options, timeoutMs }, schedule);
  } finally {
    lease.stop();
  }
}

/** A sender's lease on the delivery it works on. */
interface HeldLease {
  /** Still this sender's: renewed within `leaseMs`, and no other sender claimed the delivery since. */
  held(): boolean;
  stop(): void;
}

/**
 * Keep the lease alive while this sender works on the delivery (the send, recording its answer), so
 * a sender killed mid-attempt holds it at most `leaseMs`; then another sends it again (same
 * webhook-id). The lease is this claim's: `attempt` (the count the claim set) is its token, so a
 * sender whose renewals stalled past the lease (a busy pool, a frozen process) neither extends nor
 * records over another's claim. A renewal starts only once the last one settled.
 */
function keepLease(db: Db, deliveryId: string, attempt: number, leaseMs: number): HeldLease {
  let confirmedAt = Date.now();
  let lost = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    timer = setTimeout(() => {
      void extendLease(db, deliveryId, attempt, leaseMs).then(
        (kept) => {
          if (kept) confirmedAt = Date.now();
          else lost = true;
          if (!stopped && !lost) next();
        },
        () => {
          if (!stopped) next();
        },
      );
    }, leaseMs / 3);
  };
  next();
  return {
    held: () => !lost && Date.now() - confirmedAt < leaseMs,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** What a claim that does not send means for its job. */
function notSent(claim: Exclude<ClaimResult, { kind: 'send' }>): ForwardOutcome {
  switch (claim.kind) {
    case 'gone':
    case 'held':
    case 'cancelled':
    case 'waiting':
      return { kind: 'idle', reason: claim.kind };
    case 'final':
      return { kind: 'idle', reason: claim.status };
    case 'later':
      return { kind: 'later', at: claim.at, reason: 'not due' };
  }
}

/** One attempt at a claimed delivery: sign, send, record the answer and what follows from it. */
async function attempt(
  db: Db,
  keys: SecretKeyring,
  claim: Extract<ClaimResult, { kind: 'send' }>,
  lease: HeldLease,
  options: ForwardOptions & { timeoutMs: number },
  schedule: readonly number[],
): Promise<ForwardOutcome> {
  const { timeoutMs } = options;
  const { delivery, destination, probe } = claim;
  const at = new Date();
  let secrets: string[];
  try {
    secrets = signingSecrets(keys, destination, at);
  } catch (err) {
    // A key missing from CALLSYNC_SECRET_KEY_PREVIOUS is the operator's to fix, not the receiver's:
    // no attempt is counted, and the delivery waits (the sweeper brings it back) instead of failing.
    await releaseDelivery(db, delivery.id, delivery.attempts, new Date(Date.now() + 60_000));
    throw new SecretKeyError(
      `destination ${destination.id}: cannot read its signing secret: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (delivery.body !== null && options.beforeSend && !(await options.beforeSend())) {
    await releaseDelivery(db, delivery.id, delivery.attempts, new Date(Date.now() + BUSY_RETRY_MS));
    return { kind: 'later', at: new Date(Date.now() + BUSY_RETRY_MS), reason: 'destination busy' };
  }
  // Not sent on a lease that may have lapsed (its renewals stalled): another sender may hold it now.
  // The claim decides again when the job comes back; the attempt counted stays counted.
  if (!lease.held()) return { kind: 'later', at: new Date(Date.now() + BUSY_RETRY_MS), reason: 'lease lapsed' };
  const result: SendResult =
    delivery.body === null
      ? {
          statusCode: null,
          latencyMs: 0,
          excerpt: null,
          retryAfterMs: null,
          error: "the event's body is gone (payload retention removed it)",
          refused: true,
        }
      : await signAndSend(destination, secrets, delivery.message_id, delivery.body, timeoutMs, at);
  await options.onAnswered?.(result.latencyMs);
  const verdict = judgeAnswer(result, delivery.attempts, schedule, Date.now(), { fail4xx: destination.fail_4xx });
  const error = describeFailure(result);
  const facts = { success: verdict.kind === 'delivered', gone: result.statusCode === 410, probe };
  const recorded = await recordAnswer(
    db,
    {
      deliveryId: delivery.id,
      attempt: delivery.attempts,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error,
      responseExcerpt: verdict.kind === 'delivered' ? null : result.excerpt,
      result: verdict,
      probe,
    },
    (view) => decideBreaker(view, facts, options.breakerCooldownMs ?? DEFAULT_BREAKER_COOLDOWN_MS),
  );
  const work: BreakerWork = { enqueue: await afterBreaker(db, destination.id, recorded), probe: recorded.probe };
  const attempt: AttemptReport = {
    destinationId: destination.id,
    attempt: delivery.attempts,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    error,
    breakerOpened: recorded.breaker === 'open' || recorded.breaker === 'gone',
    breaker: recorded.breaker,
    probe,
    generation: delivery.replay_count,
  };
  if (verdict.kind === 'retry') {
    if (!recorded.retryAt) return { kind: 'idle', reason: 'held', ...work };
    return { kind: 'later', at: recorded.retryAt, reason: 'retry', attempt, ...work };
  }
  if (verdict.kind === 'delivered') return { kind: 'delivered', attempt, next: recorded.next, ...work };
  return { kind: 'failed', attempt, next: recorded.next, error: error ?? 'failed', ...work };
}

/**
 * What the breaker's decision asks of the destination's other deliveries, done after the attempt
 * committed, in bounded batches: opened or 410, hold the pending ones; closed, release the held
 * ones (the heads of their chains are returned: they need jobs). A hold that fails here is not lost
 * work: each delivery's claim holds it when its turn comes.
 */
async function afterBreaker(db: Db, destinationId: string, recorded: AttemptRecorded): Promise<ForwardHead[]> {
  if (recorded.breaker === 'open' || recorded.breaker === 'gone') {
    await holdPendingDeliveries(db, destinationId).catch(() => 0);
    return [];
  }
  if (recorded.breaker === 'close') return (await releaseDestination(db, destinationId)).heads;
  return [];
}

/**
 * Send a signed test message (type callsync.test) to a destination now, outside the outbox: what
 * `make destinations ARGS="test ID"` shows. Works for a paused destination too.
 */
export async function sendTestMessage(
  keys: SecretKeyring,
  destination: ForwardDestination,
  timeoutMs = 10_000,
): Promise<SendResult> {
  const at = new Date();
  const body = JSON.stringify({
    type: 'callsync.test',
    timestamp: new Date().toISOString(),
    data: { destination_id: destination.id, message: 'callsync can reach this destination' },
  });
  return signAndSend(
    destination,
    signingSecrets(keys, destination, at),
    `msg_test_${randomUUID().replaceAll('-', '')}`,
    body,
    timeoutMs,
    at,
  );
}
