import { formatDuration } from './duration';

const MS = { unit: 'milliseconds', ms: 1 };
const SECONDS = { unit: 'seconds', ms: 1000 };
const MINUTES = { unit: 'minutes', ms: 60_000 };
const DAYS = { unit: 'days', ms: 86_400_000 };

interface DurationSetting {
  /** The default, in milliseconds. */
  readonly defaultMs: number;
  /** The name it had before durations took one format: a number in `unit`. Still accepted. */
  readonly old: string;
  readonly unit: { readonly unit: string; readonly ms: number };
}

/**
 * Every duration setting: its default and the older name (with a unit) it replaces. SPEC.md's
 * STALE_AFTER_MINUTES and RECONCILE_EVERY_MINUTES are among them; like every older name they keep
 * working, with one warning that names the new variable.
 */
export const DURATION_SETTINGS = {
  SHUTDOWN_DRAIN: { defaultMs: 5_000, old: 'SHUTDOWN_DRAIN_MS', unit: MS },
  BODY_READ_TIMEOUT: { defaultMs: 5_000, old: 'BODY_READ_TIMEOUT_MS', unit: MS },
  SIGNATURE_TOLERANCE: { defaultMs: 300_000, old: 'SIGNATURE_TOLERANCE_MS', unit: MS },
  JOB_BACKOFF: { defaultMs: 1_000, old: 'JOB_BACKOFF_MS', unit: MS },
  WORKER_SHUTDOWN_TIMEOUT: { defaultMs: 15_000, old: 'WORKER_SHUTDOWN_TIMEOUT_MS', unit: MS },
  SWEEP_INTERVAL: { defaultMs: 30_000, old: 'SWEEP_EVERY_SECONDS', unit: SECONDS },
  SWEEP_PENDING_AFTER: { defaultMs: 60_000, old: 'SWEEP_PENDING_AFTER_SECONDS', unit: SECONDS },
  PAYLOAD_RETENTION: { defaultMs: 30 * DAYS.ms, old: 'RETENTION_DAYS', unit: DAYS },
  EVENT_ROWS_RETENTION: { defaultMs: 180 * DAYS.ms, old: 'EVENT_ROWS_RETENTION_DAYS', unit: DAYS },
  SESSION_PII_RETENTION: { defaultMs: 90 * DAYS.ms, old: 'SESSION_PII_RETENTION_DAYS', unit: DAYS },
  FAILED_EVENT_RETENTION: { defaultMs: 14 * DAYS.ms, old: 'FAILED_EVENT_RETENTION_DAYS', unit: DAYS },
  FORWARD_TIMEOUT: { defaultMs: 10_000, old: 'FORWARD_TIMEOUT_MS', unit: MS },
  FORWARD_BREAKER_COOLDOWN: { defaultMs: 30_000, old: 'FORWARD_BREAKER_COOLDOWN_MS', unit: MS },
  STALE_AFTER: { defaultMs: 5 * MINUTES.ms, old: 'STALE_AFTER_MINUTES', unit: MINUTES },
  RECONCILE_INTERVAL: { defaultMs: 5 * MINUTES.ms, old: 'RECONCILE_EVERY_MINUTES', unit: MINUTES },
  RECONCILE_ANALYSIS_AFTER: { defaultMs: 30 * MINUTES.ms, old: 'RECONCILE_ANALYSIS_AFTER_MINUTES', unit: MINUTES },
  RETELL_API_TIMEOUT: { defaultMs: 10_000, old: 'RETELL_API_TIMEOUT_MS', unit: MS },
  ALERT_CHECK_INTERVAL: { defaultMs: 60_000, old: 'ALERT_CHECK_EVERY_SECONDS', unit: SECONDS },
  ALERT_CLEAR_AFTER: { defaultMs: 300_000, old: 'ALERT_CLEAR_AFTER_SECONDS', unit: SECONDS },
} as const satisfies Record<string, DurationSetting>;

export type DurationName = keyof typeof DURATION_SETTINGS;

/** Where a duration's value is taken from, and what is said about it. */
export interface DurationReport {
  warning(text: string): void;
  problem(text: string): void;
}

/**
 * A duration setting in milliseconds from the parsed environment: the new name, else the older one
 * converted from its unit (with a warning naming the new variable), else the default. Both set to
 * different values is a problem naming both: which one was meant cannot be guessed.
 */
export function resolveDuration(
  env: Readonly<Record<string, unknown>>,
  name: DurationName,
  report: DurationReport,
): number {
  const { defaultMs, old, unit } = DURATION_SETTINGS[name] as DurationSetting;
  const current = env[name] as number | undefined;
  const legacy = env[old] as number | undefined;
  if (legacy === undefined) return current ?? defaultMs;
  const legacyMs = Math.round(legacy * unit.ms);
  report.warning(
    `${old} (a number of ${unit.unit}) is still accepted but replaced by ${name}, which takes a duration: set ${name}=${formatDuration(legacyMs)} instead`,
  );
  if (current !== undefined && current !== legacyMs) {
    report.problem(
      `${name} (${formatDuration(current)}) and ${old} (${legacy} ${unit.unit}) are both set and differ: set only ${name}`,
    );
  }
  return current ?? legacyMs;
}
