import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';

/**
 * The node test environment, plus a check that each test file closes what it opens: when the
 * file's tests and afterAll hooks have run, no more sockets (pg pools, ioredis, HTTP clients),
 * listening servers or child processes may be open than when the file started. A leak fails the
 * file, naming what is left, instead of showing up later as "Jest did not exit".
 *
 * Checked per file rather than per test: a pool that beforeAll opens grows lazily during the tests
 * and legitimately stays open until afterAll.
 */
const WATCHED: Record<string, string> = {
  TCPSocketWrap: 'socket',
  TCPServerWrap: 'listening server',
  PipeWrap: 'pipe',
  ProcessWrap: 'child process',
};
const SETTLE_MS = 3_000;

function openResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    if (kind in WATCHED) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function leaksSince(baseline: Map<string, number>): string[] {
  const leaks: string[] = [];
  for (const [kind, count] of openResources()) {
    const extra = count - (baseline.get(kind) ?? 0);
    if (extra > 0) leaks.push(`${extra} ${WATCHED[kind]}${extra === 1 ? '' : 's'} (${kind})`);
  }
  return leaks;
}

export default class LeakCheckingEnvironment extends TestEnvironment {
  private baseline = new Map<string, number>();

  override async setup(): Promise<void> {
    await super.setup();
    this.baseline = openResources();
  }

  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish') return;
    // Sockets close a moment after the pool's end() or the server's close() resolves.
    const deadline = Date.now() + SETTLE_MS;
    let leaks = leaksSince(this.baseline);
    while (leaks.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      leaks = leaksSince(this.baseline);
    }
    if (leaks.length)
      state.unhandledErrors.push(
        new Error(
          `this test file left open: ${leaks.join(', ')}. Close every pool, Redis connection, server, worker and child process it opens (afterAll/afterEach).`,
        ),
      );
  }
}
