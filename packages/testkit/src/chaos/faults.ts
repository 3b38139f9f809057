import { isDatabaseUnavailable, type Db } from '@callsync/db';
import { holdWebhookEventsLock } from '@callsync/db/testing';
import type { LocalServices } from '../local-services';
import type { ManagedProcess } from '../managed-process';
import { rng } from './load';
import type { ChaosOptions } from './chaos';
import type { OutageWindow } from './verify';
import type { FlakyDestination } from './flaky-destination';

/** What the faults share while the load runs, and what they count. */
export interface ChaosRun {
  options: ChaosOptions;
  say: (line: string) => void;
  services: LocalServices;
  db: Db;
  ingress: ManagedProcess;
  workers: ManagedProcess[];
  metricsPort: number;
  durationMs: number;
  loadStart: number;
  loadDone: boolean;
  /** The frozen worker is left alone by the killer and the rolling restart: it must come back by itself. */
  frozen?: ManagedProcess;
  /** When 503s are right: Postgres down, the table locked. */
  outages: OutageWindow[];
  /**
   * Planned faults that lose queued work without refusing deliveries (Redis restarted without its
   * data): no 503 is right then, but a forward waiting through one waited for the fault.
   */
  jobLosses: OutageWindow[];
  kills: number;
  rollingExitCodes: (number | null)[];
  freezes: number;
  ingressPeakRssDuringLock: number;
  metricsScrapes: number;
  metricsScrapeErrors: number;
  /** The forwarding destination that fails a third of the time and goes down once (absent: not forwarding). */
  flaky?: FlakyDestination;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until `at` ms into the load. */
const untilLoadAt = (run: ChaosRun, at: number) => sleep(Math.max(0, at - (Date.now() - run.loadStart)));

/** SIGKILL a random worker every killEverySeconds, and start it again. */
export async function killWorkers(run: ChaosRun): Promise<void> {
  const random = rng(run.options.seed + 1);
  while (!run.loadDone && run.options.killEverySeconds > 0) {
    await sleep(run.options.killEverySeconds * 1000);
    if (run.loadDone) break;
    const candidates = run.workers.filter((w) => w !== run.frozen);
    const w = candidates[Math.floor(random() * candidates.length)]!;
    const pid = w.pid;
    await w.kill();
    run.kills += 1;
    run.say(`SIGKILL ${w.name} (pid ${pid})`);
    await sleep(500);
    w.start();
  }
}

/**
 * Like a deploy: SIGTERM one worker at a time and start it again; the others keep draining. Goes on
 * while the load runs, and at least until every worker was restarted once, however long each
 * graceful stop takes on a busy machine.
 */
export async function rollWorkers(run: ChaosRun): Promise<void> {
  for (let n = 0; run.options.rollingRestart && (!run.loadDone || n < run.workers.length); n++) {
    const i = n % run.workers.length;
    await sleep(1000);
    const w = run.workers[i]!;
    if (w === run.frozen) continue;
    const code = await w.stop();
    run.rollingExitCodes.push(code);
    run.say(`rolling restart: ${w.name} stopped with SIGTERM (exit ${code}), starting it again`);
    // As a deploy does, the next one waits until this one is up (on a busy machine, a SIGTERM before
    // Node has even loaded the worker would end it without a graceful stop).
    const up = w.logged('worker started', 30_000);
    w.start();
    await up;
  }
}

/** SIGSTOP one worker for freezeSeconds, keeping its connections and row locks, then SIGCONT. */
export async function freezeWorker(run: ChaosRun): Promise<void> {
  const seconds = run.options.freezeSeconds;
  if (!seconds) return;
  await untilLoadAt(run, run.durationMs * 0.1);
  const w = run.workers[run.workers.length - 1]!;
  run.frozen = w;
  run.say(`freezing ${w.name} (SIGSTOP, pid ${w.pid}) for ${seconds}s: its connections and row locks stay`);
  const from = Date.now();
  w.freeze();
  run.freezes += 1;
  await sleep(seconds * 1000);
  w.thaw();
  // A redelivery of a row the frozen worker had claimed waits for its lock, gives up after the
  // ingress's 1 s lock_timeout and is answered 503 (Retell retries): right while it is frozen.
  run.outages.push({ from, to: Date.now() });
  run.frozen = undefined;
  run.say(`${w.name} resumed (SIGCONT)`);
}

/** Scrape the ingress's /metrics from 8 loops at once while the load runs. */
export async function floodMetrics(run: ChaosRun): Promise<void> {
  if (!run.options.metricsFlood) return;
  const scrape = async () => {
    while (!run.loadDone) {
      const ok = await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`).then(
        async (r) => (await r.text(), r.ok),
        () => false,
      );
      if (ok) run.metricsScrapes += 1;
      else run.metricsScrapeErrors += 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, scrape));
}

/** Restart Redis (it keeps nothing), then crash Postgres for pgOutageSeconds. */
export async function breakServices(run: ChaosRun): Promise<void> {
  const { options, services } = run;
  await untilLoadAt(run, run.durationMs * 0.25);
  if (options.restartRedis ?? true) {
    run.say('restarting Redis (no persistence: every job and job scheduler is gone)');
    const from = Date.now();
    await services.stopRedis();
    await services.startRedis();
    run.jobLosses.push({ from, to: Date.now() });
  }
  if (options.pgOutageSeconds <= 0) return;
  await untilLoadAt(run, run.durationMs * 0.45);
  const from = Date.now();
  // A crash rather than a clean stop: workers commit asynchronously, and the last of their commits
  // being undone must not lose or double-apply anything either.
  run.say(`crashing Postgres (immediate stop) for ${options.pgOutageSeconds}s`);
  await services.crashPostgres();
  await sleep(options.pgOutageSeconds * 1000);
  await services.startPostgres();
  run.outages.push({ from, to: Date.now() });
  run.say('Postgres is back');
}

/** After `outageOver`, lock webhook_events for lockSeconds while sampling the ingress's memory. */
export async function lockTable(run: ChaosRun, outageOver: Promise<void>): Promise<void> {
  const seconds = run.options.lockSeconds;
  if (!seconds) return;
  await untilLoadAt(run, run.durationMs * 0.78);
  await outageOver; // never during the Postgres outage
  await sleep(2000);
  const from = Date.now();
  run.say(`locking webhook_events for ${seconds}s (every INSERT and claim waits)`);
  const sample = () => (run.ingressPeakRssDuringLock = Math.max(run.ingressPeakRssDuringLock, run.ingress.rssBytes()));
  const sampler = setInterval(sample, 200);
  try {
    // The chaos run's own connections may still be finding a Postgres that just came back.
    for (let attempt = 1; ; attempt++) {
      try {
        await holdWebhookEventsLock(run.db, seconds * 1000);
        break;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || attempt === 5) throw err;
        run.say(`could not take the lock yet (${(err as Error).message}); trying again`);
        await sleep(1000);
      }
    }
  } finally {
    clearInterval(sampler);
    run.outages.push({ from, to: Date.now() });
  }
  run.say(`lock released; ingress peak RSS during it ${(run.ingressPeakRssDuringLock / 1048576).toFixed(0)} MB`);
}
