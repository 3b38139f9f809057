import type { DestinationState, PausedBy } from '../forward.table';

/*
 * The breaker's policy (when to open, when to close, how long to cool down) is a pure function of
 * the domain's (decideBreaker), handed to recordAttempt. What its verdict writes on the destination
 * row is pure too, and here: recordAttempt reads the row under lock, asks for the verdict, turns it
 * into column values with breakerRecord and writes them as they are. No decision is left in SQL.
 */

/** What the breaker sees of its destination when an attempt is recorded (the row is locked). */
export interface BreakerView {
  state: DestinationState;
  paused_by: PausedBy | null;
  consecutive_failures: number;
  breaker_threshold: number;
  breaker_opens: number;
}

/** What the breaker decided about an attempt (a pure function's verdict; recordAttempt applies it). */
export type BreakerDecision =
  /** Nothing changes but the failure streak. */
  | { kind: 'keep' }
  /** Open (or re-open, after a failed probe): paused, one probe after `probeInMs`. */
  | { kind: 'open'; probeInMs: number; reason: string }
  /** The probe succeeded: active again, everything held is released. */
  | { kind: 'close' }
  /** The receiver said 410 Gone: paused until an operator resumes it. */
  | { kind: 'gone'; reason: string };

/** The destination's breaker columns after an attempt. */
export interface BreakerRecord {
  consecutive_failures: number;
  /** The rest, when the decision changes the destination's state (absent: `keep`). */
  state?: {
    state: 'active' | 'paused';
    paused_by: PausedBy | null;
    paused_reason: string | null;
    breaker_opens: number;
    /** The probe is due this long after now; null: no probe. */
    probe_in_ms: number | null;
    probe_delivery_id: string | null;
  };
}

/**
 * What `decision` writes on the destination `view` shows: the failure streak (a success ends it),
 * and, unless it keeps the state, the pause, its reason, the openings in a row (they set the next
 * cool-down) and the probe. `retried`: this attempt's delivery when it is to be retried; an opening
 * breaker makes it the probe.
 */
export function breakerRecord(
  view: BreakerView,
  success: boolean,
  decision: BreakerDecision,
  retried: string | null,
): BreakerRecord {
  const consecutive_failures = success ? 0 : view.consecutive_failures + 1;
  switch (decision.kind) {
    case 'keep':
      return { consecutive_failures };
    case 'open':
      return {
        consecutive_failures,
        state: {
          state: 'paused',
          paused_by: 'breaker',
          paused_reason: decision.reason,
          breaker_opens: view.breaker_opens + 1,
          probe_in_ms: decision.probeInMs,
          probe_delivery_id: retried,
        },
      };
    case 'close':
      return {
        consecutive_failures: 0,
        state: {
          state: 'active',
          paused_by: null,
          paused_reason: null,
          breaker_opens: 0,
          probe_in_ms: null,
          probe_delivery_id: null,
        },
      };
    case 'gone':
      return {
        consecutive_failures,
        state: {
          state: 'paused',
          paused_by: 'gone',
          paused_reason: decision.reason,
          breaker_opens: view.breaker_opens,
          probe_in_ms: null,
          probe_delivery_id: null,
        },
      };
  }
}
