import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import {
  addCompany,
  countPendingEvents,
  createDb,
  mapAgent,
  mapNumber,
  migrateToLatest,
  processedSince,
  processingLatency,
  type Db,
} from '@callsync/db';
import { migrations } from '@callsync/migrations';
import { LocalServices } from '../local-services';
import { ingressProcess, workerProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { CpuMeter, servicePids } from './cpu';
import { waitUntil } from '@callsync/runtime';

export interface BenchOptions {
  root: string;
  /** Seconds per load phase. Default 10. */
  seconds: number;
  connections: number;
  /** WORKER_CONCURRENCY of the measured workers. Default 16 (the product default). */
  workerConcurrency?: number;
  log: (line: string) => void;
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bodyBytes: number;
  /** CPU the load generator itself used, µs. */
  cpuMicros: number;
}

/** CPU time per delivery (or per event drained), µs, by process group. */
export type CpuPerEvent = Record<string, number>;

export interface BenchResult {
  machine: { cpus: number; node: string };
  connections: number;
  seconds: number;
  baseline: LoadResult;
  ingress: LoadResult;
  drain: { workers: number; events: number; perSecond: number }[];
  latency: { rate: number; events: number; p50Ms: number; p99Ms: number };
  /** Answers during a call at `rate`/s each while webhooks flow at `webhookRate`/s. */
  live: { rate: number; webhookRate: number; inbound: LoadResult; functions: LoadResult };
  rssMb: { ingress: number; worker: number };
  /** Where the machine's CPU went, per delivery or event: this explains the ratios on a small host. */
  cpu: { baseline: CpuPerEvent; ingress: CpuPerEvent; drain: CpuPerEvent[] };
  ratios: { ingressVsBaseline: number; p99VsBaseline: number; drain1VsIngress: number; drain2VsIngress: number };
}

/** µs per event, rounded, for each group. */
function perEvent(micros: Record<string, number>, events: number): CpuPerEvent {
  return Object.fromEntries(Object.entries(micros).map(([k, v]) => [k, Math.round(v / Math.max(1, events))]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak resident memory of a process, from /proc (Linux). */
function peakRssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function load(root: string, options: object): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, 'packages/testkit/dist/bench/load-process.js'), JSON.stringify(options)],
      { env: childEnvironment({}), maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`load generator failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult);
      },
    );
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${url} never became ready`);
}

/** Until no row is pending (the workers drained the backlog). */
async function drained(db: Db): Promise<void> {
  await waitUntil(async () => ((await countPendingEvents(db)) === 0 ? true : undefined), {
    timeoutMs: 600_000,
    intervalMs: 200,
  });
}

/** Events per second between the first and the last row processed after `since`. */
async function drainRate(db: Db, since: Date): Promise<{ events: number; perSecond: number }> {
  const { events, first, last } = await processedSince(db, since);
  const seconds = first && last ? (new Date(last).getTime() - new Date(first).getTime()) / 1000 : 0;
  return { events, perSecond: seconds > 0 ? Math.round(events / seconds) : 0 };
}

/**
 * `make bench`: a bare Express 5 baseline and callsync, measured in the same run on the same
 * machine, so the ratios mean something even on a busy, shared host.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const services = await LocalServices.create(options.root, 'bench');
  const processes: ManagedProcess[] = [];
  const say = (line: string) => options.log(`[bench] ${line}`);
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
          WORKER_CONCURRENCY: String(options.workerConcurrency ?? 16),
        }),
        port,
        logDir: join(options.root, '.local', 'bench-logs'),
        common: { connections: options.connections, durationSeconds: options.seconds },
        pids: () => servicePids(services.pgPort, services.redisPort),
      };
      const baseline = await measureBaseline(run);
      const ingress = await measureIngress(run);
      const drain = await measureDrain(run);
      const latency = await measureLatency(run, ingress.result.rps, drain.workers);
      const live = await measureLive(run);
      const rssMb = {
        ingress: peakRssMb(ingress.process.pid),
        worker: Math.max(drain.workerPeakMb, latency.workerPeakMb),
      };
      const round = (x: number) => Math.round(x * 100) / 100;
      return {
        machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
        connections: options.connections,
        seconds: options.seconds,
        baseline: baseline.result,
        ingress: ingress.result,
        drain: drain.results,
        latency: latency.result,
        live,
        rssMb,
        cpu: { baseline: baseline.cpu, ingress: ingress.cpu, drain: drain.cpu },
        ratios: {
          ingressVsBaseline: round(ingress.result.rps / baseline.result.rps),
          p99VsBaseline: round(ingress.result.p99 / Math.max(1, baseline.result.p99)),
          drain1VsIngress: round(drain.results[0]!.perSecond / ingress.result.rps),
          drain2VsIngress: round(drain.results[1]!.perSecond / ingress.result.rps),
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

const API_KEY = 'key_bench_only';

/** What the bench's steps share. */
interface BenchRun {
  options: BenchOptions;
  say: (line: string) => void;
  services: LocalServices;
  db: Db;
  /** Every callsync process started, for the final stop. */
  processes: ManagedProcess[];
  env: Record<string, string>;
  port: number;
  logDir: string;
  common: { connections: number; durationSeconds: number };
  pids: () => { postgres: number[]; redis: number[] };
}

const webhookUrl = (run: BenchRun) => `http://127.0.0.1:${run.port}/api/webhooks/retell`;

/** (a) A bare Express 5 route that parses the same JSON and answers 204. */
async function measureBaseline(run: BenchRun): Promise<{ result: LoadResult; cpu: CpuPerEvent }> {
  const { options, common } = run;
  const basePort = await freePort();
  const server = spawn(
    process.execPath,
    [join(options.root, 'packages/testkit/dist/bench/baseline-server.js'), String(basePort)],
    { env: childEnvironment({}), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise((r) => server.stdout!.once('data', r));
    run.say(`(a) baseline: bare Express 5, ${options.connections} connections, ${options.seconds}s`);
    const url = `http://127.0.0.1:${basePort}/api/webhooks/retell`;
    await load(options.root, { ...common, url, runId: 'warm', durationSeconds: 2 });
    const meter = new CpuMeter({ server: () => (server.pid ? [server.pid] : []) });
    const result = await load(options.root, { ...common, url, runId: 'base' });
    return { result, cpu: perEvent({ ...meter.stop(), 'load generator': result.cpuMicros }, result.requests) };
  } finally {
    server.kill('SIGTERM');
  }
}

/** (b) The ingress alone: every 2xx is a committed row and an enqueued job. */
async function measureIngress(
  run: BenchRun,
): Promise<{ result: LoadResult; cpu: CpuPerEvent; process: ManagedProcess }> {
  const { options, common } = run;
  const ingress = ingressProcess(options.root, run.env, run.logDir);
  run.processes.push(ingress);
  ingress.start();
  await waitReady(`http://127.0.0.1:${run.port}/readyz`);
  run.say(
    `(b) ingress: signature check, durable row, enqueue; ${options.connections} connections, ${options.seconds}s`,
  );
  await load(options.root, { ...common, url: webhookUrl(run), apiKey: API_KEY, runId: 'warm', durationSeconds: 2 });
  const meter = new CpuMeter({
    ingress: () => (ingress.pid ? [ingress.pid] : []),
    Postgres: () => run.pids().postgres,
    Redis: () => run.pids().redis,
  });
  const result = await load(options.root, { ...common, url: webhookUrl(run), apiKey: API_KEY, runId: 'ingress' });
  const cpu = perEvent({ ...meter.stop(), 'load generator': result.cpuMicros }, result.requests);
  return { result, cpu, process: ingress };
}

/** (c) Drain the backlog the ingress just built with 1 worker, then a second backlog with 2. */
async function measureDrain(run: BenchRun) {
  const results: BenchResult['drain'] = [];
  const cpu: CpuPerEvent[] = [];
  const workers: ManagedProcess[] = [];
  let workerPeakMb = 0;
  for (const count of [1, 2]) {
    if (count === 2) {
      run.say('building a second backlog');
      await load(run.options.root, { ...run.common, url: webhookUrl(run), apiKey: API_KEY, runId: 'backlog2' });
    }
    run.say(`(c) drain: ${await countPendingEvents(run.db)} pending events, ${count} worker(s)`);
    const since = new Date();
    const meter = new CpuMeter({
      [count > 1 ? 'workers' : 'worker']: () => workers.map((w) => w.pid ?? 0).filter(Boolean),
      Postgres: () => run.pids().postgres,
      Redis: () => run.pids().redis,
    });
    while (workers.length < count) {
      const w = workerProcess(`worker-${workers.length + 1}`, run.options.root, run.env, run.logDir);
      run.processes.push(w);
      workers.push(w);
      w.start();
    }
    await drained(run.db);
    const rate = await drainRate(run.db, since);
    results.push({ workers: count, ...rate });
    cpu.push(perEvent(meter.stop(), rate.events));
    workerPeakMb = Math.max(workerPeakMb, ...workers.map((w) => peakRssMb(w.pid)));
    if (count === 1) {
      await workers[0]!.stop();
      workers.length = 0;
    }
  }
  return { results, cpu, workers, workerPeakMb };
}

/** (d) Received-to-processed latency at half the ingress's maximum rate, with the 2 workers running. */
async function measureLatency(run: BenchRun, ingressRps: number, workers: ManagedProcess[]) {
  const rate = Math.max(1, Math.round(ingressRps / 2));
  run.say(`(d) latency: ${rate} deliveries/s for ${run.options.seconds}s with 2 workers`);
  const since = new Date();
  await load(run.options.root, { ...run.common, url: webhookUrl(run), apiKey: API_KEY, runId: 'latency', rate });
  await drained(run.db);
  const result = { rate, ...(await processingLatency(run.db, since)) };
  return { result, workerPeakMb: Math.max(0, ...workers.map((w) => peakRssMb(w.pid))) };
}

/**
 * (f) Inbound answers and function calls at 200/s each, each run beside webhooks at 200/s (about 70
 * calls a second, far more than one team's agents make) and the workers applying them: the latency a
 * caller and an agent see while the system works. The number and the
 * sample agent belong to a company, so the caller-history query runs as in production.
 */
async function measureLive(run: BenchRun) {
  const rate = 200;
  const webhookRate = 200;
  // The bench's database is its own and fresh: the company is new.
  const company = await addCompany(run.db, 'Bench Praxis', 'Europe/Berlin');
  await mapNumber(run.db, '+493033081738', company.id);
  await mapAgent(run.db, 'agent_f1ce85d06a84afb989dfbb16a9', company.id);
  const base = `http://127.0.0.1:${run.port}`;
  const during = async (kind: 'inbound' | 'function', path: string) => {
    run.say(`(f) ${kind}: ${rate}/s for ${run.options.seconds}s while webhooks arrive at ${webhookRate}/s`);
    const [answers] = await Promise.all([
      load(run.options.root, {
        ...run.common,
        connections: 20,
        url: `${base}${path}`,
        apiKey: API_KEY,
        runId: `live_${kind}`,
        rate,
        kind,
      }),
      load(run.options.root, {
        ...run.common,
        url: webhookUrl(run),
        apiKey: API_KEY,
        runId: `live_webhooks_${kind}`,
        rate: webhookRate,
      }),
    ]);
    return answers;
  };
  const inbound = await during('inbound', '/api/retell/inbound');
  const functions = await during('function', '/api/retell/functions/get_call_context');
  await drained(run.db);
  return { rate, webhookRate, inbound, functions };
}

/** The table `make bench` prints, with each goal. */
export function formatBench(r: BenchResult): string {
  const ok = (pass: boolean) => (pass ? 'met' : 'NOT met');
  const rows: [string, string, string][] = [
    ['(a) baseline: bare Express 5 + JSON', `${Math.round(r.baseline.rps)} req/s, p99 ${r.baseline.p99} ms`, ''],
    ['(b) ingress: verify + commit + enqueue', `${Math.round(r.ingress.rps)} req/s, p99 ${r.ingress.p99} ms`, ''],
    [
      '    ingress / baseline throughput',
      `${r.ratios.ingressVsBaseline}x`,
      `goal >= 0.9x: ${ok(r.ratios.ingressVsBaseline >= 0.9)}`,
    ],
    ['    ingress / baseline p99', `${r.ratios.p99VsBaseline}x`, `goal <= 2x: ${ok(r.ratios.p99VsBaseline <= 2)}`],
    ...r.drain.map((d): [string, string, string] => [
      `(c) drain, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
      `${d.perSecond} events/s (${d.events} events)`,
      `drain / ingress ${Math.round((d.perSecond / r.ingress.rps) * 100) / 100}x, goal >= 1.0x: ${ok(d.perSecond >= r.ingress.rps)}`,
    ]),
    [
      '(d) received -> processed at half load',
      `p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms (${r.latency.rate}/s)`,
      `goal p99 <= 250 ms: ${ok(r.latency.p99Ms <= 250)}`,
    ],
    ...(['inbound', 'functions'] as const).map((k): [string, string, string] => {
      const x = r.live[k];
      const bad = x.non2xx + x.errors + x.timeouts;
      return [
        `(f) ${k === 'inbound' ? 'inbound answer' : 'function call'}, ${r.live.rate}/s + webhooks ${r.live.webhookRate}/s`,
        `p50 ${x.p50} ms, p99 ${x.p99} ms${bad ? ` (${bad} not 2xx)` : ''}`,
        `goal p99 <= 30 ms: ${ok(x.p99 <= 30 && bad === 0)}`,
      ];
    }),
    ['(e) peak RSS ingress', `${r.rssMb.ingress} MB`, `goal <= 150 MB: ${ok(r.rssMb.ingress <= 150)}`],
    ['(e) peak RSS worker', `${r.rssMb.worker} MB`, `goal <= 200 MB: ${ok(r.rssMb.worker <= 200)}`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const errors = r.ingress.non2xx + r.ingress.errors + r.ingress.timeouts;
  // Everything shares the same cores, so the machine can sustain at most cores / (CPU per event).
  const cpuRows: [string, CpuPerEvent][] = [
    ['(a) baseline', r.cpu.baseline],
    ['(b) ingress', r.cpu.ingress],
    ...r.cpu.drain.map((c, i): [string, CpuPerEvent] => [
      `(c) drain, ${r.drain[i]!.workers} worker${r.drain[i]!.workers > 1 ? 's' : ''}`,
      c,
    ]),
  ];
  const cpuLines = cpuRows.map(([label, c]) => {
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    const parts = Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const ceiling =
      total > 0 ? `, so at most ~${Math.round((r.machine.cpus * 1_000_000) / total)}/s on ${r.machine.cpus} cores` : '';
    return `  ${label.padEnd(w0)}  ${`${total} µs`.padEnd(8)} = ${parts}${ceiling}`;
  });
  return [
    `${r.machine.cpus} cores, Node ${r.machine.node}, ${r.connections} connections, ${r.seconds} s per phase, ~${r.ingress.bodyBytes} B bodies`,
    ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`),
    '',
    'CPU per delivery (or event drained), all processes on this machine:',
    ...cpuLines,
    errors
      ? `  ! ingress answered ${r.ingress.non2xx} non-2xx, ${r.ingress.errors} errors, ${r.ingress.timeouts} timeouts`
      : '',
  ].join('\n');
}
