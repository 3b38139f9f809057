import { setFlagsFromString } from 'node:v8';

export { Limiter, mapLimit, TimeoutError, waitUntil, withTimeout } from './async';
export type { WaitOptions } from './async';
export { AbandonedError, BacklogFullError, deferred, GroupCommit, settle } from './group-commit';
export type { Deferred, Entry, GroupCommitOptions, Settled } from './group-commit';

/** Minimal logger shape, so this package needs no logging library. */
interface Log {
  info(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export interface ShutdownOptions {
  logger: Log;
  /** Stops taking work, finishes what is in flight, closes connections. Called once. */
  stop: () => Promise<void>;
  /** Exit with 1 if stop() takes longer than this. Default 30 s. */
  timeoutMs?: number;
}

/**
 * On SIGTERM or SIGINT run stop() once, then exit 0; a second signal or the timeout exits 1 at once.
 * Returns the function that triggers the same shutdown (for fatal errors).
 */
export function handleShutdown({ logger, stop, timeoutMs = 30_000 }: ShutdownOptions): (reason: string) => void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) {
      logger.error('second shutdown request; exiting now', { reason });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { reason });
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting', { timeout_ms: timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('error while stopping', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}

/*
 * How long each process may take to stop after SIGTERM before it exits 1 on its own. An orchestrator's
 * grace period (docker-compose's stop_grace_period, Kubernetes' terminationGracePeriodSeconds) must
 * be longer, or it SIGKILLs a process that was still stopping cleanly.
 */

/** Ingress: the drain (SHUTDOWN_DRAIN_MS), the last requests (its 15 s request timeout), closing. */
export function ingressShutdownBoundMs(drainMs: number): number {
  return drainMs + INGRESS_REQUEST_TIMEOUT_MS + 5_000;
}

/** Worker: its jobs (WORKER_SHUTDOWN_TIMEOUT_MS), then closing queues, Redis and the pool. */
export function workerShutdownBoundMs(workerShutdownTimeoutMs: number): number {
  return workerShutdownTimeoutMs + 10_000;
}

export const DASHBOARD_SHUTDOWN_BOUND_MS = 10_000;

/** Retell waits 10 s for an answer; the ingress never holds a request longer than this. */
export const INGRESS_REQUEST_TIMEOUT_MS = 15_000;

/** Print a start-up failure (e.g. a ConfigError) plainly and exit 1. */
export function failStartup(err: unknown): never {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

/**
 * V8 lets the old generation grow to several times the live heap before a full collection. Under
 * load the ingress keeps about 26 MB live but its heap swelled past 110 MB between collections (the
 * bare Express baseline shows the same), so RSS was mostly garbage waiting. Growing by at most half
 * the live size between collections kept the ingress under 140 MB at the same throughput in
 * `make bench`. The flag is read at every collection, so setting it first thing in main() works.
 */
export function limitHeapGrowth(percent = 50): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Node flags the ingress runs with (Dockerfile, `make up`, bench, chaos and the tests all use these).
 * A smaller young generation (8 MB semi-spaces instead of 16) took about 12 MB off the ingress's peak
 * RSS under load with no measurable change in throughput; it cannot be set once the process runs.
 */
export const INGRESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

export { BACKGROUND_NICE, runInBackground } from './priority';
