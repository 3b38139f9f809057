import type { BreakerDecision, BreakerView } from '@callsync/db/forward';

/*
 * The circuit breaker's policy, a pure function: recordAttempt locks the destination row, asks this
 * what an attempt means for it, and only applies the answer (packages/db's breakerRecord turns it
 * into the row's columns). It reads no clock: the cool-down is a span, which Postgres adds to its
 * own now(), so the decision is the same whenever and wherever it is made.
 *
 * closed (active) --threshold consecutive failures--> open (paused by the breaker; every delivery
 * held but one, the probe) --probe due and 2xx--> closed, everything held released in order per call;
 * a failed probe re-opens it with a cool-down twice as long, up to 1 h. A 410 Gone pauses the
 * destination until an operator resumes it, and so does an operator's pause: the breaker never
 * closes those.
 */

/** Longest cool-down before a probe. */
export const MAX_BREAKER_COOLDOWN_MS = 3_600_000;

/** Default first cool-down (FORWARD_BREAKER_COOLDOWN_MS). */
export const DEFAULT_BREAKER_COOLDOWN_MS = 30_000;

/** The cool-down before the probe after the breaker opened `opens` times in a row: base, 2x, 4x, ... up to 1 h. */
export function breakerCooldownMs(opens: number, baseMs: number, maxMs = MAX_BREAKER_COOLDOWN_MS): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, opens - 1)));
}

export interface AttemptForBreaker {
  /** 2xx. */
  success: boolean;
  /** The receiver answered 410 Gone. */
  gone: boolean;
  /** The attempt was the open breaker's probe. */
  probe: boolean;
}

export function decideBreaker(d: BreakerView, a: AttemptForBreaker, baseCooldownMs: number): BreakerDecision {
  if (d.state === 'removed') return { kind: 'keep' };
  const breakerOpen = d.state === 'paused' && d.paused_by === 'breaker';
  if (a.gone && (d.state === 'active' || breakerOpen))
    return { kind: 'gone', reason: 'the receiver answered 410 Gone: resume it once the endpoint is back' };
  if (a.probe && breakerOpen) {
    if (a.success) return { kind: 'close' };
    const opens = d.breaker_opens + 1;
    const cooldown = breakerCooldownMs(opens, baseCooldownMs);
    return {
      kind: 'open',
      probeInMs: cooldown,
      reason: `circuit breaker: probe failed (opened ${opens} times in a row); probing again in ${seconds(cooldown)}`,
    };
  }
  if (a.success || d.state !== 'active') return { kind: 'keep' };
  const failures = d.consecutive_failures + 1;
  if (d.breaker_threshold <= 0 || failures < d.breaker_threshold) return { kind: 'keep' };
  const opens = d.breaker_opens + 1;
  const cooldown = breakerCooldownMs(opens, baseCooldownMs);
  return {
    kind: 'open',
    probeInMs: cooldown,
    reason: `circuit breaker: ${failures} consecutive failures; probing in ${seconds(cooldown)}`,
  };
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
