import { join } from 'node:path';
import { countPendingEvents, createDb, migrateToLatest, type Db } from '@callsync/db';
import { migrations } from '@callsync/migrations';
import { SecretKeyring } from '@callsync/domain';
import {
  breakServices,
  floodMetrics,
  freezeWorker,
  killWorkers,
  lockTable,
  rollWorkers,
  sleep,
  type ChaosRun,
} from './faults';
import { hostilePhase, type HostileOptions, type HostileReport } from './hostile';
import { auditLine, auditPassed, auditPhase, callGaps, chatGaps, type AuditPhaseReport } from './audit-phase';
import { planLoad, sendLoad, type DeliveryOutcome } from './load';
import { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { chaosPassed, verifyChaos, type ChaosReport, type OutageWindow } from './verify';
import { FLAKY_EVENTS, FlakyDestination, forwardPassed, type ForwardReport } from './flaky-destination';
import {
  FairDestinations,
  fairnessDetails,
  fairnessGoalsMet,
  fairnessPassed,
  fairnessRows,
  type FairnessReport,
} from './fair-destinations';
import { waitUntil } from '@callsync/runtime';
import { functionsPassed, functionsPhase, functionsRows, type FunctionsPhaseReport } from './functions-phase';

export interface ChaosOptions {
  /** Repository root (for scripts/ and the built apps). */
  root: string;
  /** Signed deliveries to send. Default 20,000. */
  events: number;
  workers: number;
  /** Spread the load over this long. */
  durationSeconds: number;
  /** Postgres is stopped this long, once (0: never). */
  pgOutageSeconds: number;
  /** SIGKILL a random worker this often, and restart it (0: never). */
  killEverySeconds: number;
  /** Restart Redis once, losing every job. Default true. */
  restartRedis?: boolean;
  /** Deploy-style: SIGTERM each worker in turn, wait for its exit, start it again, while the load runs. */
  rollingRestart?: boolean;
  /** Freeze one worker (SIGSTOP) this long in the middle of its work, then resume it (0: never). Default 0. */
  freezeSeconds?: number;
  /** Hold a lock on webhook_events this long, once, after the Postgres outage (0: never). Default 0. */
  lockSeconds?: number;
  /** Scrape the ingress's /metrics from 8 loops at once for the whole load. Default false. */
  metricsFlood?: boolean;
  /** The forwarding destination answers 503 to everything this long, once (0: never). Default 30. */
  destinationDownSeconds?: number;
  /** Share of the forwarding destination's answers that are 500. Default 1/3. */
  destinationFailureRate?: number;
  /**
   * The hostile phase beside the signed load (hostile.ts): unsigned 5 MB bodies, slow connections,
   * wrong dashboard passwords. Default off; `make chaos` turns it on.
   */
  hostile?: HostileOptions;
  /** Forward applied events to a (flaky) destination and check them. Default true. */
  forwarding?: boolean;
  /**
   * Custom functions with a turn budget beside the load (functions-phase.ts): no handler may run twice
   * for one invocation. Default off: it adds load a small machine feels (`make chaos ARGS=--functions`).
   */
  functions?: boolean;
  /**
   * End with reconciliation against a fake Retell that lists every call (5% of them never sent as
   * webhooks) and `make audit`, which must find every call complete. Default true.
   */
  audit?: boolean;
  seed: number;
  /** Keep the services and data afterwards, for a look. */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface ChaosResult {
  report: ChaosReport;
  passed: boolean;
  kills: number;
  /** Workers restarted one by one with SIGTERM (rolling restart), and their exit codes. */
  rollingExitCodes: (number | null)[];
  /** Exit codes of the graceful SIGTERM stop at the end (0 = clean). */
  shutdownCodes: (number | null)[];
  unexpectedExits: string[];
  /** Where the processes' logs were kept. */
  logDir: string;
  /** Workers frozen with SIGSTOP and resumed. */
  freezes: number;
  /** The ingress's peak resident memory while webhook_events was locked, in bytes (0: no lock). */
  ingressPeakRssDuringLock: number;
  /** /metrics scrapes answered during the flood, and the ones that failed. */
  metricsScrapes: number;
  metricsScrapeErrors: number;
  /** The flaky forwarding destination: forwarded = applied, once each, in order (absent: not forwarding). */
  forward?: ForwardReport;
  /** The hostile phase (absent: not run). */
  hostile?: HostileReport;
  /** Healthy, slow and rate-limited destinations beside the flaky one (absent: not forwarding). */
  fairness?: FairnessReport;
  /** Reconciliation and make audit at the end (absent: not run). */
  audit?: AuditPhaseReport;
  /** Functions under the faults: no double runs, every invocation answered (absent: not run). */
  functions?: FunctionsPhaseReport;
}

/** The ingress's memory budget (docs/performance.md, the bench): the lock must not push it past this. */
export const INGRESS_RSS_BUDGET_BYTES = 150 * 1024 * 1024;

/**
 * Run callsync (ingress + workers) on its own Postgres and Redis, send a Retell-like load, and break
 * things meanwhile: SIGKILL workers, freeze one, restart Redis (it keeps nothing), crash Postgres,
 * lock webhook_events, flood /metrics. Then wait for the backlog to drain and check that nothing
 * acknowledged was lost or applied twice.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const t0 = Date.now();
  const say = (line: string) => options.log?.(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const services = await LocalServices.create(options.root, 'chaos');
  // Logs outlive the throwaway services, so a failed run can be read afterwards.
  const logDir = join(options.root, '.local', 'chaos-logs', String(options.seed));
  const processes: ManagedProcess[] = [];
  try {
    say(`starting Postgres :${services.pgPort} and Redis :${services.redisPort} in ${services.dataDir}`);
    await services.start();
    const db = createDb({
      url: services.databaseUrl,
      poolSize: 4,
      connectTimeoutMs: 5000,
      applicationName: 'callsync-chaos',
    });
    try {
      await migrateToLatest(db, migrations);
      const flaky =
        options.forwarding === false
          ? undefined
          : await FlakyDestination.start(
              db,
              new SecretKeyring({ current: services.secretKey, previous: [] }),
              options.seed,
              options.destinationFailureRate ?? 1 / 3,
            );
      const fair =
        flaky && (await FairDestinations.start(db, new SecretKeyring({ current: services.secretKey, previous: [] })));
      try {
        const run = await startCallsync(options, say, services, db, logDir, processes, flaky);
        const { plan, outcomes, hostile, functions } = await loadWithFaults(run, logDir);
        await drain(run);
        const report = await verifyChaos(db, plan, outcomes, run.outages);
        const forward = await flaky?.verify(db);
        const fairness = fair && flaky && (await fair.verifyAndRemove(db, await flaky.breakerSeen(db), run.outages));
        const hostileReport = hostile && {
          ...hostile,
          signedNon2xxOutsideOutages: signedNon2xx(outcomes, hostile, run.outages),
        };
        const audit = options.audit === false ? undefined : await auditPhase(run, plan, API_KEY);
        const finished = await finish(run, report, forward, processes, logDir, hostileReport, audit);
        const result = functions
          ? { ...finished, functions, passed: finished.passed && functionsPassed(functions) }
          : finished;
        return fairness ? { ...result, fairness, passed: result.passed && fairnessPassed(fairness) } : result;
      } finally {
        await fair?.stop();
        await flaky?.stop();
      }
    } finally {
      await db.destroy();
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)));
    for (const p of processes) p.close();
    if (options.keep) say(`kept: ${services.databaseUrl}, ${services.redisUrl}`);
    else await services.destroy();
  }
}

const API_KEY = 'key_chaos_run_only';

/** The ingress and the workers, started and ready; `processes` collects them for the final stop. */
async function startCallsync(
  options: ChaosOptions,
  say: (line: string) => void,
  services: LocalServices,
  db: Db,
  logDir: string,
  processes: ManagedProcess[],
  flaky: FlakyDestination | undefined,
): Promise<ChaosRun & { port: number }> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env = services.processEnv(API_KEY, port, {
    INGRESS_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
    JOB_ATTEMPTS: '5',
    JOB_BACKOFF_MS: '500',
    SWEEP_EVERY_SECONDS: '2',
    SWEEP_PENDING_AFTER_SECONDS: '5',
    WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
    // The flaky destination's outage lasts seconds, not hours: retry on that scale.
    FORWARD_RETRY_SCHEDULE: '1s,2s,4s,8s,15s,30s,30s,30s,30s,30s',
    // The slow destination answers in 9 s: within the timeout, with room for a busy machine.
    FORWARD_TIMEOUT_MS: '12000',
    // No operator resumes the flaky destination: its breaker probes after 3 s, 6 s, 12 s, ...
    FORWARD_BREAKER_COOLDOWN_MS: '3000',
  });
  const ingress = ingressProcess(options.root, env, logDir);
  const workers = Array.from({ length: options.workers }, (_, i) =>
    workerProcess(`worker-${i + 1}`, options.root, env, logDir),
  );
  processes.push(ingress, ...workers);
  for (const p of processes) p.start();
  const ready = () =>
    fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => (r.ok ? true : undefined),
      () => undefined,
    );
  if (!(await waitUntil(ready, { timeoutMs: 10_000 }))) throw new Error(`ingress not ready; see ${logDir}/ingress.log`);
  flaky?.watchBreaker(db, options.root, env, say);
  return {
    options,
    say,
    services,
    db,
    ingress,
    workers,
    port,
    metricsPort,
    durationMs: options.durationSeconds * 1000,
    loadStart: 0,
    loadDone: false,
    outages: [],
    kills: 0,
    rollingExitCodes: [],
    freezes: 0,
    ingressPeakRssDuringLock: 0,
    metricsScrapes: 0,
    metricsScrapeErrors: 0,
    flaky,
  };
}

/** The signed load, with every fault running beside it; resolves when the load and the faults are done. */
async function loadWithFaults(run: ChaosRun & { port: number }, logDir: string) {
  const { options, say } = run;
  const plan = planLoad(options.events, options.seed, options.seed.toString(36));
  const base = `http://127.0.0.1:${run.port}`;
  say(
    `sending ${plan.deliveries.length} deliveries (${plan.events.length} distinct events, ${plan.calls} calls and chats) over ${options.durationSeconds}s to ${base}, ${options.workers} workers`,
  );
  let lastReport = 0;
  run.loadStart = Date.now();
  const load = sendLoad(plan, {
    url: `${base}/api/webhooks/retell`,
    apiKey: API_KEY,
    durationMs: run.durationMs,
    concurrency: 64,
    onProgress: (sent) => {
      if (Date.now() - lastReport < 5000) return;
      lastReport = Date.now();
      say(`${sent}/${plan.deliveries.length} delivered`);
    },
  }).finally(() => (run.loadDone = true));
  const outage = breakServices(run);
  const lock = lockTable(run, outage);
  const faults = [
    killWorkers(run),
    rollWorkers(run),
    freezeWorker(run),
    floodMetrics(run),
    outage,
    lock,
    destinationOutage(run, lock),
  ];
  const hostile = options.hostile ? hostilePhase(run, run.port, logDir, options.hostile) : undefined;
  // Awaited below, after the load: until then a failure must not go unhandled (the run's cleanup needs it thrown there).
  hostile?.catch(() => undefined);
  const functions = options.functions ? functionsPhase(run, logDir) : undefined;
  functions?.catch(() => undefined);
  const outcomes = await load;
  await Promise.all(faults);
  return { plan, outcomes, hostile: await hostile, functions: await functions };
}

/**
 * Signed attempts from the hostile phase's start on (its effects, a throttle say, may outlast it)
 * answered other than 2xx (a timeout included), outside the planned outages (and the 10 s after
 * each, as verify.ts allows).
 */
function signedNon2xx(outcomes: DeliveryOutcome[], phase: { from: number }, outages: OutageWindow[]) {
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

/**
 * The forwarding destination goes down once Postgres is back and the table unlocked (`after`), so
 * forwards are flowing and its outage is not hidden behind theirs (while webhook_events is locked,
 * raw-mode forwards cannot read their bodies either); but at the latest when the load was planned to
 * end, so there is still work for it to refuse.
 */
async function destinationOutage(run: ChaosRun, after: Promise<unknown>): Promise<void> {
  await sleep(run.durationMs * 0.5);
  await Promise.race([after, sleep(run.durationMs * 0.5)]);
  await run.flaky?.outage(run.options.destinationDownSeconds ?? 30, run.say);
}

/** Until no row is pending, then until nothing is left to forward (at most 5 minutes each). */
async function drain(run: ChaosRun): Promise<void> {
  run.say('load done; waiting for the backlog to drain');
  const empty = async () => ((await countPendingEvents(run.db).catch(() => -1)) === 0 ? true : undefined);
  if (!(await waitUntil(empty, { timeoutMs: 300_000, intervalMs: 1000 }))) {
    run.say(`still ${await countPendingEvents(run.db)} pending after 300 s`);
  }
  if (!run.flaky) return;
  run.say('waiting for the forwards to drain');
  if (!(await run.flaky.drain(run.db, 300_000))) run.say('deliveries still pending or held after 300 s');
}

/** Stop every process gracefully and put the verdict together. */
async function finish(
  run: ChaosRun,
  report: ChaosReport,
  forward: ForwardReport | undefined,
  processes: ManagedProcess[],
  logDir: string,
  hostile: HostileReport | undefined,
  audit?: AuditPhaseReport,
): Promise<ChaosResult> {
  // A worker restarted a moment ago may still be booting (Node has not run our code yet, so SIGTERM
  // would simply kill it); give it time to start before testing the graceful stop.
  await sleep(2000);
  run.say('stopping every process with SIGTERM (graceful shutdown)');
  const shutdownCodes = await Promise.all(processes.map((p) => p.stop()));
  const unexpectedExits = processes.flatMap((p) => p.unexpectedExits);
  const { kills, rollingExitCodes, freezes, ingressPeakRssDuringLock, metricsScrapes, metricsScrapeErrors } = run;
  const passed =
    chaosPassed(report) &&
    (!forward || forwardPassed(forward)) &&
    (!hostile || hostilePassed(hostile)) &&
    (!audit || auditPassed(audit)) &&
    shutdownCodes.every((c) => c === 0) &&
    rollingExitCodes.every((c) => c === 0) &&
    unexpectedExits.length === 0 &&
    ingressPeakRssDuringLock <= INGRESS_RSS_BUDGET_BYTES &&
    metricsScrapeErrors === 0;
  return {
    report,
    passed,
    kills,
    rollingExitCodes,
    shutdownCodes,
    unexpectedExits,
    logDir,
    freezes,
    ingressPeakRssDuringLock,
    metricsScrapes,
    metricsScrapeErrors,
    forward,
    hostile,
    audit,
  };
}

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
