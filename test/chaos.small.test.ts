import { join } from 'node:path';
import { formatChaos, runChaos } from '@callsync/testkit';
import { assertBuilt } from './support/processes';

/**
 * A small `make chaos`: real ingress and 3 worker processes on their own Postgres and Redis; workers
 * SIGKILLed every 2 s, one frozen (SIGSTOP) for 3 s, Redis restarted, Postgres crashed (immediate stop) for 2 s,
 * webhook_events locked for 2 s and /metrics flooded, while 600 signed deliveries arrive; applied events
 * are forwarded to a destination that answers 500 a third of the time and is down for 3 s.
 */
beforeAll(() => assertBuilt());

describe('chaos (small)', () => {
  it('loses nothing acknowledged and applies nothing twice', async () => {
    const lines: string[] = [];
    const result = await runChaos({
      root: join(__dirname, '..'),
      events: 600,
      workers: 3,
      durationSeconds: 10,
      pgOutageSeconds: 2,
      killEverySeconds: 2,
      freezeSeconds: 3,
      lockSeconds: 2,
      metricsFlood: true,
      destinationDownSeconds: 3,
      seed: 424242,
      log: (l) => lines.push(l),
    });
    const table = formatChaos(result);
    // On failure, the run's own account is the first thing to read.
    if (!result.passed) console.log(`${lines.join('\n')}\n${table}`);
    const r = result.report;
    // The load really went through the failures.
    expect(r.deliveriesSent).toBe(600);
    // Chats and transferred calls are mixed into the load.
    expect(r.eventTypes).toMatchObject({
      chat_started: expect.any(Number),
      chat_analyzed: expect.any(Number),
      transfer_started: expect.any(Number),
      transfer_bridged: expect.any(Number),
    });
    expect(r.status503).toBeGreaterThan(0);
    expect(result.kills).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('restarting Redis'))).toBe(true);
    expect(result.freezes).toBe(1);
    expect(lines.some((l) => l.includes('locking webhook_events'))).toBe(true);
    expect(result.ingressPeakRssDuringLock).toBeGreaterThan(0);
    expect(result.ingressPeakRssDuringLock).toBeLessThanOrEqual(150 * 1024 * 1024);
    expect(result.metricsScrapes).toBeGreaterThan(0);
    expect(result.metricsScrapeErrors).toBe(0);
    // And nothing was lost, doubled or left behind.
    expect({
      lost: r.lost,
      phantom: r.phantom,
      badCounts: r.badCounts,
      mismatches: r.sessionMismatches,
      bad5xx: r.bad5xx,
      unexpectedExits: result.unexpectedExits,
    }).toEqual({
      lost: [],
      phantom: [],
      badCounts: [],
      mismatches: [],
      bad5xx: [],
      unexpectedExits: [],
    });
    expect(r.pendingLeft).toBe(0);
    // Forwarding to a destination that fails a third of the time and was down for 3 s: every applied
    // call_ended, call_analyzed and chat_analyzed arrived, verified, once by webhook-id, in order.
    const f = result.forward!;
    expect(f.applied).toBeGreaterThan(0);
    expect({ missing: f.missing, extra: f.extra, outOfOrder: f.outOfOrder, unverified: f.unverified }).toEqual({
      missing: [],
      extra: [],
      outOfOrder: [],
      unverified: 0,
    });
    expect(f.delivered).toBe(f.applied);
    expect(f.answered500).toBeGreaterThan(0);
    expect(f.answered503).toBeGreaterThan(0);
    expect(r.processed).toBeGreaterThanOrEqual(r.acknowledged);
    expect(result.shutdownCodes).toEqual([0, 0, 0, 0]);
    expect(result.passed).toBe(true);
    expect(table).toContain('PASS');
  }, 240_000);
});
