import { auditLine, auditPassed, callGaps, chatGaps, type AuditPhaseReport } from './audit-phase';
import type { ChaosResult } from './chaos-types';
import { hostilePassed } from './checks';
import { fairnessDetails, fairnessGoalsMet, fairnessPassed, fairnessRows } from './fair-destinations';
import { FLAKY_EVENTS, type ForwardReport } from './flaky-destination';
import { functionsPassed, functionsRows } from './functions-phase';
import type { HostileReport } from './hostile';

function forwardRows(f: ForwardReport | undefined): [string, string | number][] {
  if (!f) return [['forwarding', 'off']];
  return [
    [`forwarding (${FLAKY_EVENTS.join(', ')}): applied`, f.applied],
    ['  forwarded (delivered, verified; one webhook-id per event)', f.delivered],
    ['  missing / extra', `${f.missing.length} / ${f.extra.length}`],
    ['  answered 500 (flaky) / 503 (down)', `${f.answered500} / ${f.answered503}`],
    ['  circuit breaker trips (closed by itself)', `${f.breakerTrips} (${f.breakerCloses})`],
    ['  resent after a kill (same webhook-id)', f.duplicateSends],
    ['  unverified signatures / out of order', `${f.unverified} / ${f.outOfOrder.length}`],
  ];
}

function auditRows(a: AuditPhaseReport | undefined): [string, string | number][] {
  if (!a) return [['audit', 'off']];
  return [
    [`audit after reconciliation (make audit)`, auditLine(a)],
    ['  calls never sent as webhooks (Retell lists them)', a.withheld],
    ['  discovered by reconciliation / backfill', a.discovered],
    ['  withheld calls not complete', a.withheldIncomplete.length],
    ['  chats incomplete (not judged: chat analysis is not re-fetched)', chatGaps(a).length],
  ];
}

function hostileRows(h: HostileReport | undefined): [string, string | number][] {
  if (!h) return [['hostile phase', 'off']];
  return [
    ['hostile: ingress peak RSS (budget 150 MB)', `${h.ingressPeakRssMb} MB`],
    ['  signed answered non-2xx outside outages', h.signedNon2xxOutsideOutages],
    ['  unsigned 5 MB bodies (answered 401)', `${h.unsignedSent} (${h.unsigned401})`],
    ['  slow connections (cut off)', `${h.slowSent} (${h.slowCut})`],
    ['  wrong dashboard passwords answered 429', h.dashboard429],
  ];
}

/** What `make chaos` writes to chaos-results.json: the verdict and the figures a reader checks. */
export function chaosResults(r: ChaosResult, seed: number) {
  const h = r.hostile;
  return {
    seed,
    passed: r.passed,
    acknowledged: r.report.acknowledged,
    lost: r.report.lost.length,
    bad5xx: r.report.bad5xx.length,
    ingressPeakRssDuringLockMb: Math.round(r.ingressPeakRssDuringLock / 1048576),
    ...(r.audit && {
      audit: {
        listed: r.audit.audit?.listed ?? null,
        complete: r.audit.audit?.complete ?? null,
        inFlight: r.audit.audit?.inFlight ?? null,
        callGaps: callGaps(r.audit).length,
        chatGaps: chatGaps(r.audit).length,
        withheld: r.audit.withheld,
        discovered: r.audit.discovered,
        passed: auditPassed(r.audit),
      },
    }),
    ...(r.fairness && {
      forwarding: {
        healthyP99Ms: r.fairness.healthyP99Ms,
        healthyP99AllMs: r.fairness.healthyP99AllMs,
        healthySample: r.fairness.healthySample,
        healthyUnderFaults: r.fairness.healthyUnderFaults,
        healthyLostInFlight: r.fairness.healthyLostInFlight,
        claimsPerSend: r.fairness.claimsPerSend,
        breakerClosedBySelf: r.fairness.breakerClosedBySelf,
        passed: fairnessPassed(r.fairness),
        goalsMet: fairnessGoalsMet(r.fairness),
      },
    }),
    ...(r.functions && {
      functions: {
        invocations: r.functions.invocations,
        unanswered: r.functions.unanswered,
        unansweredOutsideOutages: r.functions.unansweredOutsideOutages,
        doubleRuns: r.functions.doubleRuns,
        p99OutsideOutagesMs: r.functions.p99OutsideOutagesMs,
        budgetMs: r.functions.budgetMs,
        passed: functionsPassed(r.functions),
      },
    }),
    ...(h && {
      hostile: {
        ingressPeakRssMb: h.ingressPeakRssMb,
        signedNon2xxOutsideOutages: h.signedNon2xxOutsideOutages,
        dashboard429: h.dashboard429,
        unsignedSent: h.unsignedSent,
        unsigned401: h.unsigned401,
        slowSent: h.slowSent,
        slowCut: h.slowCut,
        passed: hostilePassed(h),
      },
    }),
  };
}

/** The table the run prints. */
export function formatChaos(r: ChaosResult): string {
  const rep = r.report;
  const rows: [string, string | number][] = [
    ['deliveries sent', rep.deliveriesSent],
    ['HTTP attempts (with Retell-style retries)', rep.httpAttempts],
    ['distinct events', rep.distinctEvents],
    [
      '  of them chat / transfer events',
      `${Object.entries(rep.eventTypes)
        .filter(([e]) => e.startsWith('chat_'))
        .reduce((n, [, c]) => n + c, 0)} / ${Object.entries(rep.eventTypes)
        .filter(([e]) => e.startsWith('transfer_'))
        .reduce((n, [, c]) => n + c, 0)}`,
    ],
    ['acknowledged (2xx)', rep.acknowledged],
    ['never acknowledged (Retell would keep retrying)', rep.notAcknowledged],
    ['processed', rep.processed],
    ['lost (acknowledged, not processed)', rep.lost.length],
    ['rows without a delivery', rep.phantom.length],
    ['wrong delivery_count', rep.badCounts.length],
    ['left pending', rep.pendingLeft],
    ['session rows not equal to their events', rep.sessionMismatches.length],
    ['503 (Postgres outage, table locked, frozen worker)', rep.status503],
    ['other 5xx / 4xx / 503 outside them', rep.bad5xx.length],
    ['timeouts', rep.timeouts],
    ['slowest answer', `${rep.slowestMs} ms`],
    ['slowest 503', `${rep.slowest503Ms} ms`],
    ['workers SIGKILLed', r.kills],
    ['workers frozen (SIGSTOP, then SIGCONT)', r.freezes],
    [
      'ingress peak RSS while webhook_events locked',
      r.ingressPeakRssDuringLock ? `${(r.ingressPeakRssDuringLock / 1048576).toFixed(0)} MB` : '-',
    ],
    ['/metrics scrapes during load (failed)', `${r.metricsScrapes} (${r.metricsScrapeErrors})`],
    ['rolling restarts (SIGTERM, exit codes)', r.rollingExitCodes.length ? r.rollingExitCodes.join(' ') : 0],
    ['graceful shutdown exit codes', r.shutdownCodes.join(' ')],
    ['unexpected process exits', r.unexpectedExits.length],
    ...forwardRows(r.forward),
    ...fairnessRows(r.fairness),
    ...hostileRows(r.hostile),
    ...functionsRows(r.functions),
    ...auditRows(r.audit),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${String(v).padStart(8)}`);
  const details = [
    ...rep.lost,
    ...rep.phantom,
    ...rep.badCounts,
    ...rep.sessionMismatches,
    ...rep.bad5xx,
    ...r.unexpectedExits,
    ...(r.forward?.missing ?? []).map((m) => `not forwarded: ${m}`),
    ...(r.forward?.extra ?? []),
    ...(r.forward?.outOfOrder ?? []).map((o) => `forwarded out of order: ${o}`),
    ...fairnessDetails(r.fairness),
    ...(r.audit
      ? callGaps(r.audit).map((g) => `audit: call ${g.id} ${g.reason}${g.detail ? ` (${g.detail})` : ''}`)
      : []),
    ...(r.audit?.errors ?? []),
  ].slice(0, 20);
  return [
    ...lines,
    ...details.map((d) => `  ! ${d}`),
    '',
    `process logs: ${r.logDir}`,
    r.passed
      ? `PASS: nothing acknowledged was lost or applied twice${r.forward ? ', and every applied event was forwarded once' : ''}`
      : 'FAIL',
  ].join('\n');
}
