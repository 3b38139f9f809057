import { cpus } from 'node:os';
import { join } from 'node:path';
import { createDb, migrateToLatest } from '@callsync/db';
import { createDatabase } from '@callsync/db/testing';
import { migrations } from '@callsync/migrations';
import { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { servicePids } from './cpu';
import { measureLive, type LiveResult } from './live-phase';
import { measureDrain, measureEndToEnd, type DrainResult } from './processing';
import { measureReconcile, type ReconcileResult } from './reconcile-phase';
import {
  API_KEY,
  peakRssMb,
  totalOf,
  type BenchOptions,
  type BenchRun,
  type CpuPerEvent,
  type LoadResult,
  waitReady,
} from './run';
import { measureBaseline, measureIngress, measureNaive, mergeRounds, type ServerMeasure } from './servers';
import { measureSustained, type SustainedResult } from './sustained';

export type { BenchOptions, CpuPerEvent, LoadResult } from './run';

export interface BenchResult {
  machine: { cpus: number; node: string };
  connections: number;
  seconds: number;
  /** Rounds of the three servers, alternating; their results are merged. */
  rounds: number;
  workerConcurrency: number;
  /** (a) bare Express 5 + JSON → 204. */
  baseline: LoadResult;
  /** (a) the naive durable ingress: HMAC, one INSERT and one queue.add per request. */
  naive: LoadResult;
  /** (b) callsync's ingress. */
  ingress: LoadResult;
  drain: DrainResult[];
  latency: { rate: number; events: number; p50Ms: number; p99Ms: number };
  sustained: SustainedResult;
  reconcile: ReconcileResult;
  /** During the call: the live process idle and beside webhooks, open-loop, and the turn budget (live-phase.ts). */
  live: LiveResult;
  rssMb: { ingress: number; worker: number };
  /** Where the machine's CPU went, per delivery or event: this explains the ratios on a small host. */
  cpu: {
    baseline: CpuPerEvent;
    naive: CpuPerEvent;
    ingress: CpuPerEvent;
    drain: CpuPerEvent[];
    /** Ingress, workers, Postgres and Redis per event, load and processing at once (phase d). */
    endToEnd: CpuPerEvent;
  };
  ratios: {
    ingressVsNaive: number;
    /** Ingress process CPU per delivery / bare Express server CPU per request. */
    ingressCpuVsBaseline: number;
    /** Ingress + workers + Postgres + Redis CPU per event / bare Express server CPU per request. */
    endToEndCpuVsBaseline: number;
    ingressVsBaseline: number;
    p99VsBaseline: number;
    drain1VsIngress: number;
    drain2VsIngress: number;
    reconcileVsIdeal: number;
  };
}

/** The product's WORKER_CONCURRENCY default, which the drain goal is about. */
export const DEFAULT_WORKER_CONCURRENCY = 16;

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * `make bench`: bare Express 5, the naive durable ingress and callsync, measured in the same run on
 * the same machine, so the ratios mean something even on a busy, shared host.
 */
/** `make bench ARGS="--only live"`: the live routes' phase alone (ingress and 2 workers beside). */
export type LiveOnlyResult = Pick<BenchResult, 'machine' | 'live'>;

async function liveOnly(run: BenchRun): Promise<LiveOnlyResult> {
  const ingress = ingressProcess(run.options.root, run.env, run.logDir);
  run.processes.push(ingress);
  ingress.start();
  await waitReady(`http://127.0.0.1:${run.port}/readyz`);
  for (const name of ['worker-1', 'worker-2']) {
    const w = workerProcess(name, run.options.root, run.env, run.logDir);
    run.processes.push(w);
    w.start();
  }
  return { machine: { cpus: cpus().length, node: process.version }, live: await measureLive(run) };
}

export async function runBench(options: BenchOptions & { rounds?: number; only: 'live' }): Promise<LiveOnlyResult>;
export async function runBench(options: BenchOptions & { rounds?: number; only?: undefined }): Promise<BenchResult>;
export async function runBench(
  options: BenchOptions & { rounds?: number; only?: 'live' },
): Promise<BenchResult | LiveOnlyResult> {
  const services = await LocalServices.create(options.root, 'bench');
  const processes: ManagedProcess[] = [];
  const say = (line: string) => options.log(`[bench] ${line}`);
  const rounds = Math.max(1, options.rounds ?? 2);
  const workerConcurrency = options.workerConcurrency ?? DEFAULT_WORKER_CONCURRENCY;
  try {
    say(`starting Postgres and Redis (${services.dataDir})`);
    await services.start();
    const db = createDb({ url: services.databaseUrl, poolSize: 2 });
    try {
      await migrateToLatest(db, migrations);
      const port = await freePort();
      const run: BenchRun = {
        options,
        say,
        services,
        db,
        processes,
        env: services.processEnv(API_KEY, port, {
          LOG_LEVEL: 'warn',
          WORKER_CONCURRENCY: String(workerConcurrency),
        }),
        port,
        logDir: join(options.root, '.local', 'bench-logs'),
        common: { connections: options.connections, durationSeconds: options.seconds },
        pids: () => servicePids(services.pgPort, services.redisPort),
      };
      if (options.only === 'live') return await liveOnly(run);
      const naiveUrl = await createDatabase(db, services.databaseUrl, 'bench_naive');
      const naiveDb = createDb({ url: naiveUrl, poolSize: 1 });
      await migrateToLatest(naiveDb, migrations).finally(() => naiveDb.destroy());
      // The three servers take turns, so a noisy neighbour hurts them alike.
      const baselines: ServerMeasure[] = [];
      const naives: ServerMeasure[] = [];
      const ingresses: ServerMeasure[] = [];
      let ingressProcess: ManagedProcess | undefined;
      for (let r = 1; r <= rounds; r++) {
        say(`round ${r} of ${rounds}`);
        baselines.push(await measureBaseline(run, r));
        naives.push(await measureNaive(run, r, naiveUrl));
        const m = await measureIngress(run, r, ingressProcess);
        ingressProcess = m.process;
        ingresses.push(m);
      }
      const baseline = mergeRounds(baselines);
      const naive = mergeRounds(naives);
      const ingress = mergeRounds(ingresses);
      const drain = await measureDrain(run);
      const endToEnd = await measureEndToEnd(run, ingress.result.rps, ingressProcess!.pid ?? 0, drain.workers);
      const sustained = await measureSustained(run, Math.min(ingress.result.rps, drain.results[1]!.perSecond));
      const live = await measureLive(run);
      const reconcile = await measureReconcile(run);
      const baseServer = Math.max(1, baseline.cpu.server ?? 0);
      return {
        machine: { cpus: cpus().length, node: process.version },
        connections: options.connections,
        seconds: options.seconds,
        rounds,
        workerConcurrency,
        baseline: baseline.result,
        naive: naive.result,
        ingress: ingress.result,
        drain: drain.results,
        latency: endToEnd.result,
        sustained,
        reconcile,
        live,
        rssMb: {
          ingress: peakRssMb(ingressProcess!.pid),
          worker: Math.max(drain.workerPeakMb, endToEnd.workerPeakMb),
        },
        cpu: {
          baseline: baseline.cpu,
          naive: naive.cpu,
          ingress: ingress.cpu,
          drain: drain.cpu,
          endToEnd: endToEnd.cpu,
        },
        ratios: {
          ingressVsNaive: round2(ingress.result.rps / naive.result.rps),
          ingressCpuVsBaseline: round2((ingress.cpu.ingress ?? 0) / baseServer),
          endToEndCpuVsBaseline: round2(totalOf(endToEnd.cpu) / baseServer),
          ingressVsBaseline: round2(ingress.result.rps / baseline.result.rps),
          p99VsBaseline: round2(ingress.result.p99 / Math.max(1, baseline.result.p99)),
          drain1VsIngress: round2(drain.results[0]!.perSecond / ingress.result.rps),
          drain2VsIngress: round2(drain.results[1]!.perSecond / ingress.result.rps),
          reconcileVsIdeal: round2(reconcile.seconds / reconcile.idealSeconds),
        },
      };
    } finally {
      await db.destroy();
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)));
    for (const p of processes) p.close();
    await services.destroy();
  }
}

export { formatBench } from './report';
