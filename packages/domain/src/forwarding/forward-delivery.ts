import {
  claimDelivery,
  classifyDatabaseError,
  recordAttempt,
  releaseDelivery,
  type AttemptOutcome,
  type AttemptRecorded,
  type Db,
  type ForwardDestination,
  type ForwardHead,
} from '@callsync/db';
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
  /**
   * The destination's rate limit: resolves to 0 when this send may go now, else the ms to wait.
   * Absent: no limit is applied.
   */
  rateLimit?: (destinationId: string, perSecond: number) => Promise<number>;
}

export type ForwardOutcome =
  /** Nothing to send now (finished, held, paused, cancelled, or waiting for its chain). */
  | { kind: 'idle'; reason: string }
  /** Come back at `at` (a retry, a lease held by another sender, the rate limit). */
  | { kind: 'later'; at: Date; reason: string; attempt?: AttemptReport }
  | { kind: 'delivered'; attempt: AttemptReport; next: ForwardHead | undefined }
  | { kind: 'failed'; attempt: AttemptReport; next: ForwardHead | undefined; error: string };

export interface AttemptReport {
  destinationId: string;
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** This attempt paused the destination (circuit breaker). */
  breakerOpened: boolean;
}

type Verdict = AttemptOutcome['result'];

/**
 * What an answer means: 2xx delivered; no answer, 408, 429 and 5xx retried (honouring retry-after)
 * until the schedule runs out; anything else (other 4xx, a 3xx: redirects are not followed, a
 * refused address) fails at once.
 */
export function judgeAnswer(r: SendResult, attempt: number, schedule: readonly number[], now: number): Verdict {
  const code = r.statusCode;
  if (code !== null && code >= 200 && code < 300) return { kind: 'delivered' };
  const retryable = !r.refused && (code === null || code === 408 || code === 429 || code >= 500);
  if (!retryable || attempt > schedule.length) return { kind: 'failed' };
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
async function recordAnswer(db: Db, outcome: AttemptOutcome, tries = 4): Promise<AttemptRecorded> {
  for (let i = 1; ; i++) {
    try {
      return await recordAttempt(db, outcome);
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
 * One attempt at a delivery: claim it (it must be pending, its destination active, and it the head
 * of its chain), sign it, send it, and record the answer with what follows from it (the next
 * attempt's time, a failure, the breaker, the chain's next head).
 */
export async function forwardDelivery(
  db: Db,
  keys: SecretKeyring,
  deliveryId: string,
  options: ForwardOptions = {},
): Promise<ForwardOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const schedule = options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS;
  // The lease covers the attempt and recording its answer; a sender killed mid-attempt holds the
  // delivery that long, then another sends it again (same webhook-id).
  const claim = await claimDelivery(db, deliveryId, timeoutMs + 10_000);
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
  const { delivery, destination } = claim;
  if (destination.rate_limit_per_second && options.rateLimit) {
    const waitMs = await options.rateLimit(destination.id, destination.rate_limit_per_second);
    if (waitMs > 0) {
      const at = new Date(Date.now() + waitMs);
      await releaseDelivery(db, delivery.id, at);
      return { kind: 'later', at, reason: 'rate limit' };
    }
  }
  const at = new Date();
  let secrets: string[];
  try {
    secrets = signingSecrets(keys, destination, at);
  } catch (err) {
    // A key missing from CALLSYNC_SECRET_KEY_PREVIOUS is the operator's to fix, not the receiver's:
    // no attempt is counted, and the delivery waits (the sweeper brings it back) instead of failing.
    await releaseDelivery(db, delivery.id, new Date(Date.now() + 60_000));
    throw new SecretKeyError(
      `destination ${destination.id}: cannot read its signing secret: ${(err as Error).message}`,
      { cause: err },
    );
  }
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
  const verdict = judgeAnswer(result, delivery.attempts, schedule, Date.now());
  const error = describeFailure(result);
  const recorded = await recordAnswer(db, {
    deliveryId: delivery.id,
    attempt: delivery.attempts,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    error,
    responseExcerpt: verdict.kind === 'delivered' ? null : result.excerpt,
    result: verdict,
  });
  const attempt: AttemptReport = {
    destinationId: destination.id,
    attempt: delivery.attempts,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    error,
    breakerOpened: recorded.breakerOpened,
  };
  if (verdict.kind === 'retry') {
    if (recorded.held) return { kind: 'idle', reason: 'held' };
    return { kind: 'later', at: verdict.at, reason: 'retry', attempt };
  }
  if (verdict.kind === 'delivered') return { kind: 'delivered', attempt, next: recorded.next };
  return { kind: 'failed', attempt, next: recorded.next, error: error ?? 'failed' };
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
