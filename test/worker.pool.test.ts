import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { recordDeliveries } from '@callsync/db/events';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvents, webhookJobData } from '@callsync/queue';
import { useTestDatabase } from './support/database';
import { delivery, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, deleteQueueKeys, run, until, WORKER, type Proc } from './support/processes';

/** The worker keeps to DATABASE_POOL_SIZE connections, whatever WORKER_CONCURRENCY is (the connection budget). */
const t = useTestDatabase();
const prefix = `{callsync-pool-${randomUUID().slice(0, 8)}}`;
let worker: Proc | undefined;
beforeAll(() => assertBuilt());
afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
});

async function workerConnections(): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from pg_stat_activity
    where datname = current_database() and application_name = 'callsync-worker'`.execute(t.db);
  return Number(rows[0]!.n);
}

describe('worker connection budget', () => {
  it('drains a backlog with WORKER_CONCURRENCY 32 on no more than DATABASE_POOL_SIZE=3 connections', async () => {
    // A backlog, stored and enqueued as the ingress would.
    const deliveries = Array.from({ length: 400 }, (_, i) =>
      delivery(i % 2 ? 'call_ended' : 'call_started', newCallId('pool')),
    );
    const rows = await recordDeliveries(t.db, deliveries);
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 3, backoffMs: 10 });
    await enqueueWebhookEvents(
      queue,
      rows.map((r, i) =>
        webhookJobData({ id: r.id, event_type: deliveries[i]!.eventType, call_id: deliveries[i]!.callId }),
      ),
    );
    await queue.close();
    connection.disconnect();

    worker = run(WORKER, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: '0',
      WORKER_CONCURRENCY: '32',
      DATABASE_POOL_SIZE: '3',
    });
    let peak = 0;
    const sampler = setInterval(
      () =>
        void workerConnections().then(
          (n) => (peak = Math.max(peak, n)),
          () => undefined,
        ),
      20,
    );
    try {
      await until(
        'the backlog to drain',
        async () => {
          const { rows: left } = await sql<{
            n: string;
          }>`select count(*) as n from webhook_events where status = 'pending'`.execute(t.db);
          return Number(left[0]!.n) === 0 ? true : undefined;
        },
        60_000,
      );
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 90_000);
});
