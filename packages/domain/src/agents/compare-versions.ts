/*
 * When is a difference between two agent versions real? The rule the console and `make stats` flag by
 * (issue 29), a pure function so it is tested alone:
 *
 * - Rates (success of the analyzed calls, errors of all calls): a two-sided two-proportion z-test
 *   with the pooled rate, flagged at 95% (|z| >= 1.96), and only when both versions have at least
 *   MIN_SAMPLE calls in the rate's denominator (below that the normal approximation is poor).
 * - Latency (the median of the calls' e2e p50): each version's distribution-free 95% interval of the
 *   median (order statistics, see e2eMedianIntervals in @callsync/db); flagged when the intervals do not
 *   overlap, with at least MIN_SAMPLE calls each. Latency is skewed with long tails, so a rule on means
 *   (a t-test) would be moved by a few slow calls; non-overlapping intervals are conservative (a real
 *   difference may go unflagged for a while, a flagged one is beyond noise).
 */

/** Fewer calls than this in either version: no flag, whatever the numbers. */
export const MIN_SAMPLE = 30;
/** Two-sided 95%. */
export const Z_95 = 1.96;

export interface Proportion {
  hits: number;
  n: number;
}

/** The pooled two-proportion z statistic of b against a (positive: b's rate is higher); null without data. */
export function twoProportionZ(a: Proportion, b: Proportion): number | null {
  if (a.n === 0 || b.n === 0) return null;
  const pooled = (a.hits + b.hits) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  if (se === 0) return 0;
  return (b.hits / b.n - a.hits / a.n) / se;
}

export interface VersionSample {
  version: number;
  success: Proportion;
  errors: Proportion;
  /** The median e2e p50 and its 95% interval, over `n` calls. */
  e2e?: { n: number; median: number; low: number; high: number };
}

export interface VersionFlag {
  metric: 'success_rate' | 'error_rate' | 'e2e_p50_median';
  /** The newer version compared with the older one. */
  verdict: 'better' | 'worse';
  /** e.g. "z = -3.10" or "95% intervals 812-870 ms vs 905-960 ms". */
  evidence: string;
}

/** The differences of `newer` from `older` that are beyond noise; empty when none is. */
export function compareVersions(older: VersionSample, newer: VersionSample): VersionFlag[] {
  const flags: VersionFlag[] = [];
  const rate = (metric: 'success_rate' | 'error_rate', a: Proportion, b: Proportion, higherIsBetter: boolean) => {
    if (a.n < MIN_SAMPLE || b.n < MIN_SAMPLE) return;
    const z = twoProportionZ(a, b);
    if (z === null || Math.abs(z) < Z_95) return;
    flags.push({ metric, verdict: z > 0 === higherIsBetter ? 'better' : 'worse', evidence: `z = ${z.toFixed(2)}` });
  };
  rate('success_rate', older.success, newer.success, true);
  rate('error_rate', older.errors, newer.errors, false);
  const a = older.e2e;
  const b = newer.e2e;
  if (a && b && a.n >= MIN_SAMPLE && b.n >= MIN_SAMPLE && (b.low > a.high || b.high < a.low))
    flags.push({
      metric: 'e2e_p50_median',
      verdict: b.low > a.high ? 'worse' : 'better',
      evidence: `95% intervals ${a.low}-${a.high} ms vs ${b.low}-${b.high} ms`,
    });
  return flags;
}
