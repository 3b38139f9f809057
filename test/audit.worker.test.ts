import { randomUUID } from 'node:crypto';
import { latestAuditRuns } from '@callsync/db/reconcile';
import { createLogger } from '@callsync/logger';
import { createAuditQueue, createRedisConnection, scheduleAudit } from '@callsync/queue';
import { sampleCall } from '@callsync/retell';
import { createAuditWorker } from '@callsync/worker';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId } from './support/calls';
import { serviceUrls } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { deleteQueueKeys, until } from './support/processes';

/** The daily audit job: the day that ended one grace period ago, kept in audit_runs for the gauges. */
const t = useTestDatabase();
const prefix = `{callsync-audit-${randomUUID().slice(0, 8)}}`;
afterAll(() => deleteQueueKeys(serviceUrls().redisUrl, prefix));

it('audits the day before the grace period on its schedule and records it as scheduled', async () => {
  await truncateAll(t.db);
  const f = await startFakeRetell({ maxRetries: 1, backoffMs: 10 });
  const connection = createRedisConnection({ url: serviceUrls().redisUrl });
  const workerConnection = createRedisConnection({ url: serviceUrls().redisUrl });
  const queue = createAuditQueue(connection, prefix);
  const worker = createAuditWorker({
    db: t.db,
    connection: workerConnection,
    logger: createLogger({ silent: true }),
    prefix,
    retell: f.client,
    reconcile: { everyMinutes: 5, analysisAfterMinutes: 30 },
  });
  try {
    // Lost two hours ago (in the window); lost ten minutes ago (after it: still in its grace period).
    const old = newCallId('lostold');
    f.fake.setCall(sampleCall({ callId: old, startMs: Date.now() - 2 * 3600_000 }, 'call_analyzed'));
    f.fake.setCall(sampleCall({ callId: newCallId('lostnew'), startMs: Date.now() - 10 * 60_000 }, 'call_analyzed'));
    await scheduleAudit(queue);
    const [run] = await until('the scheduled audit to be recorded', async () => {
      const rows = await latestAuditRuns(t.db, { trigger: 'scheduled' });
      return rows.length ? rows : undefined;
    });
    expect(run).toMatchObject({ company: 'unmapped', listed: 1, gaps: 1, overdue: 1 });
    expect(run!.overdue_reasons).toEqual({ no_session: 1 });
    expect(run!.gap_list).toEqual([{ subject: 'call', id: old, reason: 'no_session', overdue: true }]);
    expect(run!.window_end.getTime() - run!.window_start.getTime()).toBe(24 * 3600_000);
    expect(run!.grace_seconds).toBe(35 * 60);
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
    workerConnection.disconnect();
    await f.fake.stop();
  }
});
