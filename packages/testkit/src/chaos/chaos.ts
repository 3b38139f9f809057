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
import { planLoad, sendLoad } from './load';
import { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { chaosPassed, verifyChaos, type ChaosReport } from './verify';
import { FLAKY_EVENTS, FlakyDestination, forwardPassed, type ForwardReport } from './flaky-destination';
import { waitUntil } from '@callsync/runtime';

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
  /** Forward applied events to a (flaky) destination and check them. Default true. */
  forwarding?: boolean;
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
}

/** The ingress's memory budget (README, Performance): the lock must not push it past this. */
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
      try {
        const run = await startCallsync(options, say, services, db, logDir, processes, flaky);
        const { plan, outcomes } = await loadWithFaults(run);
        await drain(run);
        const report = await verifyChaos(db, plan, outcomes, run.outages);
        const forward = await flaky?.verify(db);
        return await finish(run, report, forward, processes, logDir);
      } finally {
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
    FORWARD_TIMEOUT_MS: '5000',
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
async function loadWithFaults(run: ChaosRun & { port: number }) {
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
  const outcomes = await load;
  await Promise.all(faults);
  return { plan, outcomes };
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
  };
}

function forwardRows(f: ForwardReport | undefined): [string, string | number][] {
  if (!f) return [['forwarding', 'off']];
  return [
    [`forwarding (${FLAKY_EVENTS.join(', ')}): applied`, f.applied],
    ['  forwarded (delivered, verified; one webhook-id per event)', f.delivered],
    ['  missing / extra', `${f.missing.length} / ${f.extra.length}`],
    ['  answered 500 (flaky) / 503 (down)', `${f.answered500} / ${f.answered503}`],
    ['  circuit breaker trips (then resumed)', f.breakerTrips],
    ['  resent after a kill (same webhook-id)', f.duplicateSends],
    ['  unverified signatures / out of order', `${f.unverified} / ${f.outOfOrder.length}`],
  ];
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
