import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { sign } from 'retell-sdk';
import { findWebhookEvents } from '@callsync/db/events';
import { useTestDatabase, truncateAll } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { startPipeline, WEBHOOK_PATH, type Pipeline } from './support/pipeline';
import { assertBuilt, deleteQueueKeys, freePort, INGRESS, run, until } from './support/processes';

/**
 * When Postgres is slow the ingress's backlog stays bounded: beyond it a fast 503 with Retry-After,
 * and requests that gave up (client gone, deadline passed) leave the backlog.
 */
const t = useTestDatabase();
let p: Pipeline | undefined;
let releaseTable: (() => Promise<void>) | undefined;
afterEach(async () => {
  await releaseTable?.();
  releaseTable = undefined;
  await p?.close();
  p = undefined;
  await truncateAll(t.db);
});

/** Postgres as slow as it gets: INSERTs into webhook_events wait until released. */
async function blockInserts(): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = t.db.transaction().execute(async (trx) => {
    await sql`lock table webhook_events in share mode`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await holder;
  };
}

async function waiting(): Promise<number> {
  const text = await p!.metrics.registry.getSingleMetricAsString('callsync_ingress_waiting_requests');
  return Number(/ (\d+)$/m.exec(text)?.[1] ?? NaN);
}

async function insertBlocked(): Promise<true | undefined> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'insert into webhook_events%'`.execute(
    t.db,
  );
  return Number(rows[0]!.n) > 0 ? true : undefined;
}

/** Start a delivery and keep its answer for later (supertest sends on then()). */
function send(callId: string): Promise<{ status: number; headers: Record<string, string>; body: { error?: string } }> {
  return Promise.resolve(p!.deliver(body('call_started', { callId }))).then((r) => ({
    status: r.status,
    headers: r.headers as Record<string, string>,
    body: r.body,
  }));
}

describe('ingress backpressure', () => {
  it('refuses deliveries beyond its backlog with a fast 503 and Retry-After, and stores the ones it kept', async () => {
    p = await startPipeline(t.db, { worker: false, ingress: { maxWaiting: 5 } });
    releaseTable = await blockInserts();
    const first = send(newCallId('first'));
    await until('the first INSERT to wait on the lock', insertBlocked);
    const kept = Array.from({ length: 5 }, () => newCallId('kept'));
    const keptAnswers = kept.map(send);
    await until('five deliveries to wait', async () => ((await waiting()) === 5 ? true : undefined));

    const refused = await Promise.all(Array.from({ length: 3 }, () => send(newCallId('refused'))));
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('2');
      expect(r.body.error).toMatch(
        /^ingress overloaded: 5 deliveries \(\d+ KB\) already wait for the database; retry later$/,
      );
    }

    await releaseTable();
    releaseTable = undefined;
    expect((await first).status).toBe(200);
    expect((await Promise.all(keptAnswers)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await t.db.selectFrom('webhook_events').select('id').execute()).toHaveLength(6);
    expect(await waiting()).toBe(0);
  });

  it('drops a waiting delivery whose client has gone, so it holds no memory and is never written', async () => {
    p = await startPipeline(t.db, { worker: false });
    releaseTable = await blockInserts();
    const first = send(newCallId('first'));
    await until('the first INSERT to wait on the lock', insertBlocked);

    const server = p.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const goneCallId = newCallId('gone');
      const payload = body('call_started', { callId: goneCallId });
      const req = httpRequest({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
      });
      req.on('error', () => {}); // the test itself hangs up
      req.end(payload);
      await until('the delivery to wait', async () => ((await waiting()) === 1 ? true : undefined));
      req.destroy();
      await until('the gone client to leave the backlog', async () => ((await waiting()) === 0 ? true : undefined));

      await releaseTable();
      releaseTable = undefined;
      expect((await first).status).toBe(200);
      expect(await findWebhookEvents(t.db, goneCallId)).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("answers 503 when a delivery waited past its deadline, inside Retell's 10 s", async () => {
    p = await startPipeline(t.db, { worker: false, ingress: { requestDeadlineMs: 300 } });
    releaseTable = await blockInserts();
    const first = send(newCallId('first'));
    await until('the first INSERT to wait on the lock', insertBlocked);
    const late = await send(newCallId('late'));
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toBe('5');
    expect(late.body.error).toBe('database too slow; retry later (not written within 300 ms)');
    expect(await waiting()).toBe(0);
    await releaseTable();
    releaseTable = undefined;
    // The one already being written when its deadline passed is answered when it commits.
    expect((await first).status).toBe(200);
  });

  it('the ingress process gives up on a lock after its lock_timeout: a fast 503, then 200 once the table is free', async () => {
    assertBuilt();
    const port = await freePort();
    const prefix = `{callsync-locked-${process.pid}}`;
    const ingress = run(INGRESS, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      PORT: String(port),
      NODE_ENV: 'production',
      INGRESS_METRICS_PORT: '0',
      SHUTDOWN_DRAIN_MS: '0',
    });
    const post = async (callId: string) => {
      const payload = body('call_started', { callId });
      return fetch(`http://127.0.0.1:${port}/api/webhooks/retell`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
        body: payload,
      });
    };
    try {
      await until('the ingress to be ready', async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined,
      );
      releaseTable = await blockInserts();
      const refused = await post(newCallId('locked'));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toEqual({ error: 'database unavailable; retry later' });
      await releaseTable();
      releaseTable = undefined;
      expect((await post(newCallId('free'))).status).toBe(200);
    } finally {
      ingress.child.kill('SIGKILL');
      await deleteQueueKeys(serviceUrls().redisUrl, prefix);
    }
  });
});
