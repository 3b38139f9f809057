import { join } from 'node:path';
import { countPendingEvents, createDb, holdWebhookEventsLock, migrateToLatest } from '@callsync/db';
import { migrations } from '@callsync/migrations';
import { planLoad, rng, sendLoad } from './load';
import { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { chaosPassed, verifyChaos, type ChaosReport, type OutageWindow } from './verify';
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
}

/** The ingress's memory budget (README, Performance): the lock must not push it past this. */
export const INGRESS_RSS_BUDGET_BYTES = 150 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run callsync (ingress + workers) on its own Postgres and Redis, send a Retell-like load, and break
 * things meanwhile: SIGKILL workers, restart Redis (it keeps nothing), stop Postgres for a while.
 * Then wait for the backlog to drain and check that nothing acknowledged was lost or applied twice.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const t0 = Date.now();
  const say = (line: string) => log(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
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
      connectTimeoutMs: 1000,
      applicationName: 'callsync-chaos',
    });
    try {
      await migrateToLatest(db, migrations);
      const apiKey = 'key_chaos_run_only';
      const port = await freePort();
      const metricsPort = await freePort();
      const env = services.processEnv(apiKey, port, {
        INGRESS_METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'info',
        JOB_ATTEMPTS: '5',
        JOB_BACKOFF_MS: '500',
        SWEEP_EVERY_SECONDS: '2',
        SWEEP_PENDING_AFTER_SECONDS: '5',
        WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
      });
      const ingress = ingressProcess(options.root, env, logDir);
      const workers = Array.from({ length: options.workers }, (_, i) =>
        workerProcess(`worker-${i + 1}`, options.root, env, logDir),
      );
      processes.push(ingress, ...workers);
      for (const p of processes) p.start();
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        const ok = await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (i > 100) throw new Error(`ingress not ready; see ${logDir}/ingress.log`);
        await sleep(100);
      }

      const runId = options.seed.toString(36);
      const plan = planLoad(options.events, options.seed, runId);
      say(
        `sending ${plan.deliveries.length} deliveries (${plan.events.length} distinct events, ${plan.calls} calls) over ${options.durationSeconds}s to ${base}, ${options.workers} workers`,
      );
      const durationMs = options.durationSeconds * 1000;
      let loadDone = false;
      let lastReport = 0;
      const load = sendLoad(plan, {
        url: `${base}/api/webhooks/retell`,
        apiKey,
        durationMs,
        concurrency: 64,
        onProgress: (sent) => {
          if (Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            say(`${sent}/${plan.deliveries.length} delivered`);
          }
        },
      }).finally(() => (loadDone = true));

      const random = rng(options.seed + 1);
      let kills = 0;
      // The frozen worker is left alone by the killer and the rolling restart: it must come back by itself.
      let frozen: ManagedProcess | undefined;
      const killer = (async () => {
        while (!loadDone && options.killEverySeconds > 0) {
          await sleep(options.killEverySeconds * 1000);
          if (loadDone) break;
          const candidates = workers.filter((w) => w !== frozen);
          const w = candidates[Math.floor(random() * candidates.length)]!;
          const pid = w.pid;
          await w.kill();
          kills += 1;
          say(`SIGKILL ${w.name} (pid ${pid})`);
          await sleep(500);
          w.start();
        }
      })();

      const rollingExitCodes: (number | null)[] = [];
      const roller = (async () => {
        // One worker at a time, like a deploy: the others keep draining meanwhile.
        for (let i = 0; options.rollingRestart && !loadDone; i = (i + 1) % workers.length) {
          await sleep(1000);
          const w = workers[i]!;
          if (w === frozen) continue;
          const code = await w.stop();
          rollingExitCodes.push(code);
          say(`rolling restart: ${w.name} stopped with SIGTERM (exit ${code}), starting it again`);
          w.start();
        }
      })();

      let freezes = 0;
      const freezer = (async () => {
        if (!options.freezeSeconds) return;
        await sleep(durationMs * 0.1);
        const w = workers[workers.length - 1]!;
        frozen = w;
        say(
          `freezing ${w.name} (SIGSTOP, pid ${w.pid}) for ${options.freezeSeconds}s: its connections and row locks stay`,
        );
        w.freeze();
        freezes += 1;
        await sleep(options.freezeSeconds * 1000);
        w.thaw();
        frozen = undefined;
        say(`${w.name} resumed (SIGCONT)`);
      })();

      let metricsScrapes = 0;
      let metricsScrapeErrors = 0;
      const flood = options.metricsFlood
        ? Promise.all(
            Array.from({ length: 8 }, async () => {
              while (!loadDone) {
                const ok = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
                  async (r) => (await r.text(), r.ok),
                  () => false,
                );
                if (ok) metricsScrapes += 1;
                else metricsScrapeErrors += 1;
              }
            }),
          )
        : Promise.resolve([]);

      const outages: OutageWindow[] = [];
      const loadStart = Date.now();
      const pgBack = { at: 0 };
      const breaker = (async () => {
        await sleep(durationMs * 0.25);
        if (options.restartRedis ?? true) {
          say('restarting Redis (no persistence: every job and job scheduler is gone)');
          await services.stopRedis();
          await services.startRedis();
        }
        if (options.pgOutageSeconds <= 0) return;
        await sleep(Math.max(0, durationMs * 0.45 - (Date.now() - loadStart)));
        const from = Date.now();
        // A crash rather than a clean stop: workers commit asynchronously, and the last of their
        // commits being undone must not lose or double-apply anything either.
        say(`crashing Postgres (immediate stop) for ${options.pgOutageSeconds}s`);
        await services.crashPostgres();
        await sleep(options.pgOutageSeconds * 1000);
        await services.startPostgres();
        outages.push({ from, to: Date.now() });
        pgBack.at = Date.now();
        say('Postgres is back');
      })();

      let ingressPeakRssDuringLock = 0;
      const locker = (async () => {
        if (!options.lockSeconds) return;
        await sleep(Math.max(0, durationMs * 0.78 - (Date.now() - loadStart)));
        await breaker; // never during the Postgres outage
        await sleep(2000);
        const from = Date.now();
        say(`locking webhook_events for ${options.lockSeconds}s (every INSERT and claim waits)`);
        const sampler = setInterval(
          () => (ingressPeakRssDuringLock = Math.max(ingressPeakRssDuringLock, ingress.rssBytes())),
          200,
        );
        try {
          await holdWebhookEventsLock(db, options.lockSeconds! * 1000);
        } finally {
          clearInterval(sampler);
          outages.push({ from, to: Date.now() });
        }
        say(`lock released; ingress peak RSS during it ${(ingressPeakRssDuringLock / 1048576).toFixed(0)} MB`);
      })();

      const outcomes = await load;
      await Promise.all([killer, breaker, roller, freezer, locker, flood]);
      say(`load done; waiting for the backlog to drain`);

      const drained = await waitUntil(
        async () => ((await countPendingEvents(db).catch(() => -1)) === 0 ? true : undefined),
        {
          timeoutMs: 300_000,
          intervalMs: 1000,
        },
      );
      if (!drained) say(`still ${await countPendingEvents(db)} pending after 300 s`);
      const report = await verifyChaos(db, plan, outcomes, outages);

      // A worker restarted a moment ago may still be booting (Node has not run our code yet, so
      // SIGTERM would simply kill it); give it time to start before testing the graceful stop.
      await sleep(2000);
      say('stopping every process with SIGTERM (graceful shutdown)');
      const shutdownCodes = await Promise.all(processes.map((p) => p.stop()));
      const unexpectedExits = processes.flatMap((p) => p.unexpectedExits);
      const passed =
        chaosPassed(report) &&
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
      };
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

/** The table the run prints. */
export function formatChaos(r: ChaosResult): string {
  const rep = r.report;
  const rows: [string, string | number][] = [
    ['deliveries sent', rep.deliveriesSent],
    ['HTTP attempts (with Retell-style retries)', rep.httpAttempts],
    ['distinct events', rep.distinctEvents],
    ['acknowledged (2xx)', rep.acknowledged],
    ['never acknowledged (Retell would keep retrying)', rep.notAcknowledged],
    ['processed', rep.processed],
    ['lost (acknowledged, not processed)', rep.lost.length],
    ['rows without a delivery', rep.phantom.length],
    ['wrong delivery_count', rep.badCounts.length],
    ['left pending', rep.pendingLeft],
    ['session rows not equal to their events', rep.sessionMismatches.length],
    ['503 (Postgres outage, table locked)', rep.status503],
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
  ].slice(0, 20);
  return [
    ...lines,
    ...details.map((d) => `  ! ${d}`),
    '',
    `process logs: ${r.logDir}`,
    r.passed ? 'PASS: nothing acknowledged was lost or applied twice' : 'FAIL',
  ].join('\n');
}
