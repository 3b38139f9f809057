import { join } from 'node:path';
import { sign } from 'retell-sdk';
import { LocalServices } from '@callsync/testkit';
import { createDb, migrateToLatest, type Db } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { migrations } from '@callsync/migrations';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { assertBuilt, freePort, INGRESS, run, until, WORKER, type Proc } from './support/processes';

/**
 * Partial failures, on a Postgres and Redis of this file's own (scripts/services.sh with another
 * data directory and ports), so stopping them disturbs no other test.
 */
let services: LocalServices;
let db: Db;
let ingress: Proc;
let worker: Proc | undefined;
let url: string;

beforeAll(async () => {
  assertBuilt();
  services = await LocalServices.create(join(__dirname, '..'), 'outage');
  await services.start();
  db = createDb({ url: services.databaseUrl, poolSize: 2 });
  await migrateToLatest(db, migrations);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  ingress = run(INGRESS, {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    RETELL_API_KEY: TEST_API_KEY,
    PORT: String(port),
    NODE_ENV: 'production',
    WORKER_METRICS_PORT: '0',
    INGRESS_METRICS_PORT: '0',
  });
  await until('ingress ready', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
}, 60_000);

afterAll(async () => {
  ingress?.child.kill('SIGKILL');
  worker?.child.kill('SIGKILL');
  await db?.destroy();
  await services?.destroy();
});

async function deliver(payload: string): Promise<Response> {
  return fetch(`${url}/api/webhooks/retell`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
    body: payload,
  });
}

describe('ingress when a dependency is down', () => {
  it('answers 503 with Retry-After while Postgres is down, and recovers by itself', async () => {
    expect((await deliver(body('call_started', { callId: newCallId() }))).status).toBe(200);
    await services.stopPostgres();
    try {
      const res = await deliver(body('call_started', { callId: newCallId() }));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({ error: 'database unavailable; retry later' });
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      await services.startPostgres();
    }
    // The same ingress process, not restarted.
    const callId = newCallId();
    await until('a 200 after Postgres is back', async () =>
      (await deliver(body('call_started', { callId }))).status === 200 ? true : undefined,
    );
    expect(await findWebhookEvents(db, callId)).toHaveLength(1);
    expect(ingress.child.exitCode).toBeNull();
  });

  it('still answers 200 while Redis is down; the sweeper enqueues the row once Redis is back', async () => {
    await services.stopRedis();
    const callId = newCallId();
    try {
      const res = await deliver(body('call_ended', { callId }));
      expect(res.status).toBe(200);
      expect(await findWebhookEvents(db, callId)).toMatchObject([{ status: 'pending' }]);
      // Still ready: it acknowledges webhooks, so an orchestrator must keep it in rotation. Redis is reported.
      const ready = await fetch(`${url}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toEqual({
        status: 200,
        body: { postgres: 'ok', redis: 'unavailable' },
      });
    } finally {
      await services.startRedis();
    }
    worker = run(WORKER, {
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      RETELL_API_KEY: TEST_API_KEY,
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: '0',
      INGRESS_METRICS_PORT: '0',
      SWEEP_EVERY_SECONDS: '1',
      SWEEP_PENDING_AFTER_SECONDS: '1',
    });
    const [row] = await until('the row to be processed', async () => {
      const rows = await findWebhookEvents(db, callId);
      return rows[0]?.status === 'processed' ? rows : undefined;
    });
    expect(row).toMatchObject({ attempts: 1, delivery_count: 1 });
    expect(worker.output()).toContain('outbox sweeper re-enqueued pending events');
  });
});
