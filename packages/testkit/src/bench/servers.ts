import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import { runInBackground } from '@callsync/runtime';
import { ingressProcess, type ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { CpuMeter } from './cpu';
import {
  API_KEY,
  load,
  perEvent,
  waitReady,
  webhookUrl,
  type BenchRun,
  type CpuPerEvent,
  type LoadResult,
} from './run';

/** One server measured under the same load: its result and where the machine's CPU went. */
export interface ServerMeasure {
  result: LoadResult;
  cpu: CpuPerEvent;
}

/** A bench server script (baseline-server.js, naive-server.js) started on a free port. */
async function startScript(
  run: BenchRun,
  script: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(run.options.root, 'packages/testkit/dist/bench', script), String(port)], {
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // At the ingress's priority (ManagedProcess): the servers compared take turns on equal terms.
  if (child.pid !== undefined) runInBackground(child.pid);
  await new Promise((resolve, reject) => {
    child.stdout!.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  return { child, url: `http://127.0.0.1:${port}/api/webhooks/retell` };
}

/** Warm up for 2 s, then load for the phase's seconds, metering the server and the services it uses. */
async function measure(
  run: BenchRun,
  url: string,
  runId: string,
  groups: Record<string, () => number[]>,
  signed: boolean,
): Promise<ServerMeasure> {
  const common = { ...run.common, url, ...(signed ? { apiKey: API_KEY } : {}) };
  await load(run.options.root, { ...common, runId: `${runId}_warm`, durationSeconds: 2 });
  const meter = new CpuMeter(groups);
  const result = await load(run.options.root, { ...common, runId });
  return { result, cpu: perEvent({ ...meter.stop(), 'load generator': result.cpuMicros }, result.requests) };
}

/** (a) A bare Express 5 route that parses the same JSON and answers 204. */
export async function measureBaseline(run: BenchRun, round: number): Promise<ServerMeasure> {
  const { child, url } = await startScript(run, 'baseline-server.js', {});
  try {
    run.say(`(a) bare Express 5, ${run.options.connections} connections, ${run.options.seconds}s`);
    return await measure(run, url, `base${round}`, { server: () => (child.pid ? [child.pid] : []) }, false);
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * (a) The naive durable ingress (naive-server.ts): what callsync's batching has to beat. Same Postgres
 * server and Redis, but a database and a queue of its own (`naiveDatabaseUrl`), so its rows do not
 * join the backlog the drain phases measure callsync's workers on.
 */
export async function measureNaive(run: BenchRun, round: number, naiveDatabaseUrl: string): Promise<ServerMeasure> {
  const { child, url } = await startScript(run, 'naive-server.js', { ...run.env, DATABASE_URL: naiveDatabaseUrl });
  try {
    run.say(`(a) naive durable ingress: INSERT + queue.add per request, ${run.options.connections} connections`);
    return await measure(
      run,
      url,
      `naive${round}`,
      {
        server: () => (child.pid ? [child.pid] : []),
        Postgres: () => run.pids().postgres,
        Redis: () => run.pids().redis,
      },
      true,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
}

/** (b) callsync's ingress: every 2xx is a committed row and an enqueued job. Started on the first round. */
export async function measureIngress(
  run: BenchRun,
  round: number,
  started?: ManagedProcess,
): Promise<ServerMeasure & { process: ManagedProcess }> {
  let ingress = started;
  if (!ingress) {
    ingress = ingressProcess(run.options.root, run.env, run.logDir);
    run.processes.push(ingress);
    ingress.start();
    await waitReady(`http://127.0.0.1:${run.port}/readyz`);
  }
  const pid = ingress.pid;
  run.say(`(b) callsync ingress: signature, durable row, enqueue; ${run.options.connections} connections`);
  const m = await measure(
    run,
    webhookUrl(run),
    `ingress${round}`,
    {
      ingress: () => (pid ? [pid] : []),
      Postgres: () => run.pids().postgres,
      Redis: () => run.pids().redis,
    },
    true,
  );
  return { ...m, process: ingress };
}

/** Several rounds of one server merged: requests and CPU summed, rates and latencies averaged. */
export function mergeRounds(rounds: readonly ServerMeasure[]): ServerMeasure {
  const n = rounds.length;
  const sum = (f: (r: LoadResult) => number) => rounds.reduce((a, r) => a + f(r.result), 0);
  const avg = (f: (r: LoadResult) => number) => Math.round((sum(f) / n) * 100) / 100;
  const result: LoadResult = {
    requests: sum((r) => r.requests),
    rps: avg((r) => r.rps),
    p50: avg((r) => r.p50),
    p99: avg((r) => r.p99),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    bodyBytes: Math.round(sum((r) => r.bodyBytes) / n),
    cpuMicros: sum((r) => r.cpuMicros),
  };
  // CPU per request over all rounds: weighted by each round's requests.
  const cpu: CpuPerEvent = {};
  for (const key of Object.keys(rounds[0]!.cpu)) {
    const micros = rounds.reduce((a, r) => a + (r.cpu[key] ?? 0) * r.result.requests, 0);
    cpu[key] = Math.round(micros / Math.max(1, result.requests));
  }
  return { result, cpu };
}
