import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import {
  addCompany,
  mapAgent,
  mapNumber,
  notifyCallsStarted,
  notifyTenantsChanged,
  type StartedCall,
} from '@callsync/db/tenants';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { freePort } from '../ports';
import { benchCallId, benchCaller, type OpenLoopOptions, type OpenLoopResult } from './open-loop';
import type { PoolFigures } from './pool-probe';
import { API_KEY, load, sleep, waitReady, webhookUrl, type BenchRun } from './run';

/** What live-probe-server.js reports per phase (`--probe-live`). */
export type PoolProbeFigures = PoolFigures & {
  perRequest: number;
  prefetchHits: number;
  prefetchMisses: number;
  /** The live process's event loop delay, ms: waiting for its own CPU. */
  loopDelay: { p50: number; p99: number; max: number };
  cpuMs: number;
  /** The second pool's (records after the answers, prefetch at call_started). */
  background: PoolFigures;
};

/** Live answers measured beside webhooks, with the webhook rate the ingress took meanwhile. */
export type BesideWebhooks = OpenLoopResult & { webhookRps: number };

/** The live routes' figures (bench-results.json `live`). */
export interface LiveResult {
  /** Inbound answers and function calls per second, each beside webhooks at `webhookRate`/s. */
  rate: number;
  webhookRate: number;
  /** The live process (apps/ingress live-main.js), beside webhooks: `live.inbound.p99`, `live.functions.p99`. */
  inbound: BesideWebhooks;
  functions: BesideWebhooks;
  /**
   * The same function load for calls whose call_started came first (announced on callsync_calls, as
   * the ingress does): their context is prefetched, as for nearly every function call in production.
   */
  prefetched: { functions: BesideWebhooks };
  /**
   * With --probe-live: the live pool's statements per phase (count, wait for a connection, run), and
   * the prefetch cache's hits and misses in it.
   */
  pool?: Record<string, PoolProbeFigures>;
  /** The same function load through the ingress's own live routes (one process with the webhooks): the contrast. */
  sameProcess: { functions: BesideWebhooks };
  /** One request at a time, no webhooks: `live.idle.inbound.p99`, `live.idle.functions.p99`. */
  idle: { inbound: OpenLoopResult; functions: OpenLoopResult };
  /** The heavy-tailed function (p50 100 ms, p99 5 s) at `rate`/s with Retell-style retries. */
  budget: OpenLoopResult & { rate: number; budgetMs: number; doubleRuns: number; handlerRuns: number };
}

export const LIVE_RATE = 200;
export const LIVE_WEBHOOK_RATE = 200;
export const BUDGET_RATE = 50;
export const BUDGET_MS = 500;

/**
 * The live process, its output straight into a file: piped through the bench's own (busy) event loop,
 * a burst of log lines blocks the measured process in its synchronous pipe writes.
 */
function startLive(run: BenchRun, port: number) {
  mkdirSync(run.logDir, { recursive: true });
  const log = openSync(join(run.logDir, 'live.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      ...(run.options.profileLiveDir ? ['--cpu-prof', `--cpu-prof-dir=${run.options.profileLiveDir}`] : []),
      ...(run.options.probeLive
        ? [join(run.options.root, 'packages/testkit/dist/bench/live-probe-server.js'), String(port)]
        : [join(run.options.root, 'apps/ingress/dist/live-main.js')]),
    ],
    {
      env: childEnvironment({ ...run.env, LIVE_PORT: String(port), LIVE_METRICS_PORT: '0' }),
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never outlives the bench, whatever fails.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      process.off('exit', kill);
    },
  };
}

/** Run the open-loop generator (open-loop.ts) in its own process. */
export function openLoop(root: string, options: OpenLoopOptions): Promise<OpenLoopResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'packages/testkit/dist/bench/open-loop.js'), JSON.stringify(options)],
      { env: childEnvironment({}), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as OpenLoopResult);
      else reject(new Error(`open-loop generator failed: ${err || code}`));
    });
  });
}

/**
 * (f) During the call. The live process serves inbound answers and function calls on a pool of its
 * own; each is measured one request at a time (idle), then open-loop at 200/s beside webhooks at
 * 200/s that the ingress and the workers process; the same function load through the ingress's own
 * live routes shows what the isolation buys. Then the turn budget: a heavy-tailed function at 50/s,
 * Retell retrying an attempt after 1 s without an answer (and 5% sent twice), through the real
 * FunctionInvoker (live-budget-server.ts).
 */
export async function measureLive(run: BenchRun): Promise<LiveResult> {
  const root = run.options.root;
  // The bench's database is its own and fresh: the company is new.
  const company = await addCompany(run.db, 'Bench Praxis', 'Europe/Berlin');
  await mapNumber(run.db, '+493033081738', company.id);
  await mapAgent(run.db, 'agent_f1ce85d06a84afb989dfbb16a9', company.id);
  await notifyTenantsChanged(run.db);
  const livePort = await freePort();
  const live = startLive(run, livePort);
  const liveBase = `http://127.0.0.1:${livePort}`;
  await waitReady(`${liveBase}/readyz`);
  const ingressBase = `http://127.0.0.1:${run.port}`;
  const seconds = run.options.seconds;
  const common = { apiKey: API_KEY, durationSeconds: seconds };
  const INBOUND = '/api/retell/inbound';
  const FUNCTION = '/api/retell/functions/get_call_context';

  run.say('(f) live, idle: one request at a time');
  // Warm the process (JIT, pool, caches) before anything is measured.
  await openLoop(root, {
    ...common,
    url: `${liveBase}${FUNCTION}`,
    kind: 'function',
    rate: 0,
    runId: 'warm',
    sequential: { count: 100 },
  });
  const idle = {
    inbound: await openLoop(root, {
      ...common,
      url: `${liveBase}${INBOUND}`,
      kind: 'inbound',
      rate: 0,
      runId: 'idle_in',
      sequential: { count: 400 },
    }),
    functions: await openLoop(root, {
      ...common,
      url: `${liveBase}${FUNCTION}`,
      kind: 'function',
      rate: 0,
      runId: 'idle_fn',
      sequential: { count: 400 },
    }),
  };

  // With --probe-live, what each phase asked of the live pool.
  const pool: NonNullable<LiveResult['pool']> = {};
  let prefetchSeen = { hits: 0, misses: 0 };
  const poolFigures = async (phase: string, requests: number) => {
    if (!run.options.probeLive) return;
    const f = (await (await fetch(`${liveBase}/__bench/pool`)).json()) as Omit<PoolProbeFigures, 'perRequest'>;
    pool[phase] = {
      ...f,
      perRequest: Math.round((f.statements / Math.max(1, requests)) * 100) / 100,
      prefetchHits: f.prefetchHits - prefetchSeen.hits,
      prefetchMisses: f.prefetchMisses - prefetchSeen.misses,
    };
    prefetchSeen = { hits: f.prefetchHits, misses: f.prefetchMisses };
  };
  await poolFigures('idle', idle.inbound.requests + idle.functions.requests);

  // The webhooks stand for Retell's traffic, which comes from elsewhere in production: their generator
  // runs at the background priority, as the ingress and workers do, so it does not take the measured
  // live process's CPU the way no real sender would. The rate it reached is reported beside.
  const beside = async (label: string, options: OpenLoopOptions): Promise<BesideWebhooks> => {
    run.say(`(f) ${label}: ${LIVE_RATE}/s open-loop for ${seconds}s while webhooks arrive at ${LIVE_WEBHOOK_RATE}/s`);
    const [answers, webhooks] = await Promise.all([
      openLoop(root, options),
      load(
        root,
        {
          ...run.common,
          url: webhookUrl(run),
          apiKey: API_KEY,
          runId: `live_webhooks_${options.runId}`,
          rate: LIVE_WEBHOOK_RATE,
        },
        { background: true },
      ),
    ]);
    if (options.url.startsWith(liveBase)) await poolFigures(options.runId, answers.requests);
    return { ...answers, webhookRps: webhooks.rps };
  };
  /** Open-loop function calls at LIVE_RATE to `base`, as run `runId`. */
  const functionLoad = (base: string, runId: string): OpenLoopOptions => ({
    ...common,
    url: `${base}${FUNCTION}`,
    kind: 'function',
    rate: LIVE_RATE,
    runId,
  });
  const inbound = await beside('inbound, live process', {
    ...common,
    url: `${liveBase}${INBOUND}`,
    kind: 'inbound',
    rate: LIVE_RATE,
    runId: 'live_in',
  });
  const functions = await beside('functions, live process', functionLoad(liveBase, 'live_fn'));
  // Every call of the next phase starts (call_started, announced as the ingress announces it) before
  // its functions: the live process prefetches its caller. Announced ahead of the phase (beside no
  // webhooks), so the prefetch's own statements (one per call) are not in the phase's figures.
  const prefetchedRun = 'live_fnp';
  const calls: StartedCall[] = Array.from({ length: Math.round(LIVE_RATE * seconds) }, (_, i) => ({
    call_id: benchCallId(prefetchedRun, i),
    agent_id: 'agent_f1ce85d06a84afb989dfbb16a9',
    direction: 'inbound',
    from_number: benchCaller(i),
    to_number: '+493033081738',
  }));
  // At the phase's own rate, as calls start: a burst of starts would queue the prefetches past the
  // pool's connect timeout.
  for (let i = 0; i < calls.length; i += LIVE_RATE / 4) {
    await notifyCallsStarted(run.db, calls.slice(i, i + LIVE_RATE / 4));
    await sleep(250);
  }
  await sleep(3000);
  await poolFigures('prefetch', calls.length);
  const prefetched = {
    functions: await beside('functions for prefetched calls, live process', functionLoad(liveBase, prefetchedRun)),
  };
  const sameProcess = {
    functions: await beside(
      'functions, through the ingress (one process with the webhooks)',
      functionLoad(ingressBase, 'same_fn'),
    ),
  };
  await live.stop();

  run.say(
    `(f) turn budget: a heavy-tailed function (p50 100 ms, p99 5 s) at ${BUDGET_RATE}/s, budget ${BUDGET_MS} ms, Retell-style retries`,
  );
  const budgetPort = await freePort();
  const server = await startBudgetServer(root, run.env, run.logDir, budgetPort, BUDGET_MS);
  try {
    const budgetBase = server.url;
    const result = await openLoop(root, {
      ...common,
      url: `${budgetBase}/api/retell/functions/bench_lookup`,
      kind: 'budget',
      rate: BUDGET_RATE,
      runId: 'budget',
      retry: { afterMs: 1000, max: 2, duplicateShare: 0.05 },
    });
    // Handlers still running in the background (past their budget) finish within their timeout.
    await sleep(9000);
    const runs = await server.doubleRuns();
    return {
      rate: LIVE_RATE,
      webhookRate: LIVE_WEBHOOK_RATE,
      inbound,
      functions,
      prefetched,
      ...(run.options.probeLive ? { pool } : {}),
      sameProcess,
      idle,
      budget: {
        ...result,
        rate: BUDGET_RATE,
        budgetMs: BUDGET_MS,
        doubleRuns: runs.doubleRuns,
        handlerRuns: runs.invocations,
      },
    };
  } finally {
    await server.stop();
  }
}

/** The turn-budget server (live-budget-server.ts) on `port`, ready; its output to a file. */
export async function startBudgetServer(
  root: string,
  env: Record<string, string>,
  logDir: string,
  port: number,
  budgetMs: number,
): Promise<{ url: string; doubleRuns(): Promise<{ invocations: number; doubleRuns: number }>; stop(): Promise<void> }> {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, 'live-budget.log'), 'a');
  const child = spawn(
    process.execPath,
    [join(root, 'packages/testkit/dist/bench/live-budget-server.js'), String(port), String(budgetMs)],
    { env: childEnvironment(env), stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/healthz`);
  return {
    url,
    doubleRuns: async () =>
      (await (await fetch(`${url}/__bench/runs`)).json()) as { invocations: number; doubleRuns: number },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
