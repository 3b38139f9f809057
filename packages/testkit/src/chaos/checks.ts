import type { AuditPhaseReport } from './audit-phase';
import { auditPassed } from './audit-phase';
import type { ForwardReport } from './flaky-destination';
import { forwardPassed } from './flaky-destination';
import type { HostileReport } from './hostile';
import type { DeliveryOutcome } from './load';
import { chaosPassed, type ChaosReport, type OutageWindow } from './verify';

/** The ingress's memory budget (docs/performance.md, the bench): the lock must not push it past this. */
export const INGRESS_RSS_BUDGET_BYTES = 150 * 1024 * 1024;

/**
 * Signed attempts from the hostile phase's start on (its effects, a throttle say, may outlast it)
 * answered other than 2xx (a timeout included), outside the planned outages (and the 10 s after
 * each, as verify.ts allows).
 */
export function signedNon2xx(outcomes: DeliveryOutcome[], phase: { from: number }, outages: OutageWindow[]) {
  let n = 0;
  for (const o of outcomes)
    for (const a of o.attempts) {
      if (a.at < phase.from || (a.status >= 200 && a.status < 300)) continue;
      if (!outages.some((w) => a.at + a.ms >= w.from && a.at <= w.to + 10_000)) n += 1;
    }
  return n;
}

/** The hostile phase's goals: the ingress within its budget, Retell served, the dashboard throttling. */
export function hostilePassed(h: HostileReport): boolean {
  return (
    h.ingressPeakRssMb <= INGRESS_RSS_BUDGET_BYTES / 1048576 && h.signedNon2xxOutsideOutages === 0 && h.dashboard429 > 0
  );
}

/** What decides a run, besides the phases' own verdicts: how the processes ended and what they used. */
export interface RunFigures {
  shutdownCodes: (number | null)[];
  rollingExitCodes: (number | null)[];
  unexpectedExits: string[];
  ingressPeakRssDuringLock: number;
  metricsScrapeErrors: number;
}

/**
 * The run passes when nothing acknowledged was lost or applied twice, every phase that ran met its
 * goals, every process stopped cleanly, and the ingress stayed within its memory budget.
 */
export function runPassed(
  report: ChaosReport,
  phases: { forward?: ForwardReport; hostile?: HostileReport; audit?: AuditPhaseReport },
  figures: RunFigures,
): boolean {
  return (
    chaosPassed(report) &&
    (!phases.forward || forwardPassed(phases.forward)) &&
    (!phases.hostile || hostilePassed(phases.hostile)) &&
    (!phases.audit || auditPassed(phases.audit)) &&
    figures.shutdownCodes.every((c) => c === 0) &&
    figures.rollingExitCodes.every((c) => c === 0) &&
    figures.unexpectedExits.length === 0 &&
    figures.ingressPeakRssDuringLock <= INGRESS_RSS_BUDGET_BYTES &&
    figures.metricsScrapeErrors === 0
  );
}
