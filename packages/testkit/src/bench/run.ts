import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import { type Db } from '@callsync/db';
import { countPendingEvents } from '@callsync/db/ops';
import { processedSince } from '@callsync/db/testing';
import { runInBackground, waitUntil } from '@callsync/runtime';
import type { LocalServices } from '../local-services';
import type { ManagedProcess } from '../managed-process';

export interface BenchOptions {
  root: string;
  /** Seconds per load phase. Default 10. */
  seconds: number;
  connections: number;
  /** WORKER_CONCURRENCY of the measured workers. Default: the product's default. */
  workerConcurrency?: number;
  /** Seconds each offered rate must hold in the sustained-rate search. Default 30. */
  sustainSeconds?: number;
  /** Stale sessions the reconciliation phase closes. Default 2000. */
  staleSessions?: number;
  /** The fake Retell's rate limit in the reconciliation phase. Default 100 requests/s. */
  retellRatePerSecond?: number;
  log: (line: string) => void;
  /** Write a V8 CPU profile of the live process here (node --cpu-prof): where its time goes. Default none. */
  profileLiveDir?: string;
  /**
   * Serve the live routes from live-probe-server.js instead of live-main.js: the same routes on a
   * pool that counts and times its statements (`live.pool`). Default false.
   */
  probeLive?: boolean;
}

export interface LoadResult {
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

/** What the bench's steps share. */
export interface BenchRun {
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

export const API_KEY = 'key_bench_only';

export const webhookUrl = (run: BenchRun) => `http://127.0.0.1:${run.port}/api/webhooks/retell`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** µs per event, rounded, for each group. */
export function perEvent(micros: Record<string, number>, events: number): CpuPerEvent {
  return Object.fromEntries(Object.entries(micros).map(([k, v]) => [k, Math.round(v / Math.max(1, events))]));
}

export const totalOf = (c: CpuPerEvent) => Object.values(c).reduce((a, b) => a + b, 0);

/** Peak resident memory of a process, from /proc (Linux). */
export function peakRssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/**
 * Run the load generator (load-process.ts) in its own process with these options. `background`: at
 * the lower CPU priority of callsync's background processes: webhooks that stand for Retell's
 * traffic, which comes from elsewhere in production, beside a measured live process.
 */
export function load(root: string, options: object, { background = false } = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(root, 'packages/testkit/dist/bench/load-process.js'), JSON.stringify(options)],
      { env: childEnvironment({}), maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`load generator failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult);
      },
    );
    if (background && child.pid !== undefined) runInBackground(child.pid);
  });
}

export async function waitReady(url: string): Promise<void> {
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
export async function drained(db: Db): Promise<void> {
  await waitUntil(async () => ((await countPendingEvents(db)) === 0 ? true : undefined), {
    timeoutMs: 600_000,
    intervalMs: 200,
  });
}

/** Events per second between the first and the last row processed after `since`. */
export async function drainRate(db: Db, since: Date): Promise<{ events: number; perSecond: number }> {
  const { events, first, last } = await processedSince(db, since);
  const seconds = first && last ? (new Date(last).getTime() - new Date(first).getTime()) / 1000 : 0;
  return { events, perSecond: seconds > 0 ? Math.round(events / seconds) : 0 };
}
