import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { findCallSession } from '@callsync/db/sessions';
import { RECONCILE_QUEUE } from '@callsync/queue';
import { createTestDatabase, type TestDatabase } from './support/database';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { assertBuilt, deleteQueueKeys, run, until, WORKER, type Proc } from './support/processes';

/**
 * The scheduled pass, as deployed: two worker processes both register the job scheduler on a
 * short interval against a fake Retell that answers slowly, so each pass outlasts the interval.
 */
let t: TestDatabase;
let f: Awaited<ReturnType<typeof startFakeRetell>>;
const prefix = `{callsync-sched-${process.pid}}`;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
  f = await startFakeRetell();
});
afterAll(async () => {
  await f.fake.stop();
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
  await t.drop();
});

function overlaps(windows: { start: number; end: number }[]): boolean {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  return sorted.some((w, i) => i > 0 && w.start < sorted[i - 1]!.end);
}

describe('scheduled reconciliation across worker processes', () => {
  it('closes a stale call within an interval, and no two passes ever overlap', async () => {
    const now = Date.now();
    await sql`insert into retell_call_sessions (call_id, call_status, started_at, lifecycle_rank) values
      ('sched_ended', 'in_progress', ${new Date(now - 10 * 60_000)}, 1),
      ('sched_slow', 'in_progress', ${new Date(now - 10 * 60_000)}, 1)`.execute(t.db);
    f.fake.setCall({
      call_id: 'sched_ended',
      call_status: 'ended',
      start_timestamp: now - 10 * 60_000,
      end_timestamp: now - 9 * 60_000,
      duration_ms: 60_000,
      disconnection_reason: 'user_hangup',
    });
    f.fake.setCall({ call_id: 'sched_slow', call_status: 'ongoing' });
    // Each pass takes >= 1.5 s; the interval is 1.2 s.
    f.fake.behave('sched_slow', { delayMs: 1500 });

    const env = {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      RETELL_API_BASE_URL: f.baseUrl,
      RECONCILE_EVERY_MINUTES: '0.02',
      STALE_AFTER_MINUTES: '1',
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: '0',
      INGRESS_METRICS_PORT: '0',
    };
    const workers: Proc[] = [run(WORKER, env), run(WORKER, env)];
    try {
      const closed = await until('the stale call to be closed', async () => {
        const s = await findCallSession(t.db, 'sched_ended');
        return s?.call_status === 'ended' ? s : undefined;
      });
      expect(closed).toMatchObject({ ended_at: new Date(now - 9 * 60_000), disconnection_reason: 'user_hangup' });

      const runs = await until(
        'four finished passes',
        async () => {
          const rows = await t.db
            .selectFrom('reconcile_runs')
            .selectAll()
            .where('finished_at', 'is not', null)
            .orderBy('started_at')
            .execute();
          return rows.length >= 4 ? rows : undefined;
        },
        40_000,
      );
      expect(runs.every((r) => r.trigger === 'scheduled' && r.error === null)).toBe(true);
      // From the database: the passes' own recorded windows.
      expect(overlaps(runs.map((r) => ({ start: r.started_at.getTime(), end: r.finished_at!.getTime() })))).toBe(false);
      // From BullMQ: the jobs' processing windows, so the queue itself never ran two at once.
      const connection = new Redis(serviceUrls().redisUrl, { maxRetriesPerRequest: null });
      const queue = new Queue(RECONCILE_QUEUE, { connection, prefix });
      try {
        const jobs = await queue.getJobs(['completed']);
        expect(jobs.length).toBeGreaterThanOrEqual(4);
        expect(overlaps(jobs.map((j) => ({ start: j.processedOn!, end: j.finishedOn! })))).toBe(false);
      } finally {
        await queue.close();
        connection.disconnect();
      }
      // The slow call was asked about once per pass, never concurrently.
      expect(f.fake.maxInFlight).toBe(1);
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes).toEqual([0, 0]);
    }
  });
});
