import { type Db } from '@callsync/db';
import { countPendingEvents } from '@callsync/db/ops';
import { waitUntil } from '@callsync/runtime';
import type { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import type { ChaosOptions } from './chaos-types';
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
import type { FlakyDestination } from './flaky-destination';
import { functionsPhase } from './functions-phase';
import { hostilePhase } from './hostile';
import { planLoad, sendLoad } from './load';

/** The ingress's API key for this run only. */
export const API_KEY = 'key_chaos_run_only';

/** The ingress and the workers, started and ready; `processes` collects them for the final stop. */
export async function startCallsync(
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
    jobLosses: [],
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
export async function loadWithFaults(run: ChaosRun & { port: number }, logDir: string) {
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
export async function drain(run: ChaosRun): Promise<void> {
  run.say('load done; waiting for the backlog to drain');
  const empty = async () => ((await countPendingEvents(run.db).catch(() => -1)) === 0 ? true : undefined);
  if (!(await waitUntil(empty, { timeoutMs: 300_000, intervalMs: 1000 }))) {
    run.say(`still ${await countPendingEvents(run.db)} pending after 300 s`);
  }
  if (!run.flaky) return;
  run.say('waiting for the forwards to drain');
  if (!(await run.flaky.drain(run.db, 300_000))) run.say('deliveries still pending or held after 300 s');
}
