import { join } from 'node:path';
import { formatChaos, runChaos, type ChaosOptions } from '@callsync/testkit';
import { assertBuilt } from './support/processes';

/**
 * Scale-out, as deployed: real ingress and worker processes on their own Postgres and Redis,
 * signed Retell-like load with duplicates and shuffled order, exact counts checked afterwards.
 */
beforeAll(() => assertBuilt());

async function run(o: Partial<ChaosOptions>) {
  const lines: string[] = [];
  const result = await runChaos({
    root: join(__dirname, '..'),
    events: 1500,
    workers: 4,
    durationSeconds: 6,
    pgOutageSeconds: 0,
    killEverySeconds: 0,
    restartRedis: false,
    // Workers only: forwarding is make chaos's (and the small chaos test's).
    forwarding: false,
    seed: 777,
    log: (l) => lines.push(l),
    ...o,
  });
  if (!result.passed) console.log(`${lines.join('\n')}\n${formatChaos(result)}`);
  return { result, lines };
}

describe('many workers', () => {
  it('4 worker processes: every event processed once in effect, every session row right', async () => {
    const { result } = await run({});
    const r = result.report;
    expect(r.deliveriesSent).toBe(1500);
    // Nothing broke, so everything was acknowledged and everything was processed.
    expect(r.acknowledged).toBe(r.distinctEvents);
    expect(r.processed).toBe(r.distinctEvents);
    expect({
      lost: r.lost,
      phantom: r.phantom,
      badCounts: r.badCounts,
      mismatches: r.sessionMismatches,
      bad5xx: r.bad5xx,
    }).toEqual({ lost: [], phantom: [], badCounts: [], mismatches: [], bad5xx: [] });
    expect(result.shutdownCodes).toEqual([0, 0, 0, 0, 0]);
    expect(result.passed).toBe(true);
  }, 180_000);

  it('rolling restart under load (SIGTERM each worker in turn): nothing lost, nothing applied twice', async () => {
    const { result, lines } = await run({ workers: 3, durationSeconds: 10, rollingRestart: true, seed: 778 });
    expect(result.rollingExitCodes.length).toBeGreaterThanOrEqual(3);
    expect(result.rollingExitCodes.every((c) => c === 0)).toBe(true);
    expect(lines.filter((l) => l.includes('rolling restart:')).length).toBe(result.rollingExitCodes.length);
    const r = result.report;
    expect(r.acknowledged).toBe(r.distinctEvents);
    expect(r.processed).toBe(r.distinctEvents);
    expect(r.lost).toEqual([]);
    expect(r.sessionMismatches).toEqual([]);
    expect(result.passed).toBe(true);
  }, 180_000);
});
