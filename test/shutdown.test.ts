import { request as httpRequest } from 'node:http';
import { sql } from 'kysely';
import { sign } from 'retell-sdk';
import { findWebhookEvents } from '@callsync/db/events';
import {
  createRedisConnection,
  createWebhookQueue,
  enqueueWebhookEvent,
  webhookJobId,
  type WebhookQueue,
} from '@callsync/queue';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId, storeEvent } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, deleteQueueKeys, freePort, INGRESS, run, until, WORKER, type Proc } from './support/processes';

/** SIGTERM during work, against the built processes. */
let t: TestDatabase;
const prefix = `{callsync-shutdown-${process.pid}}`;
const procs: Proc[] = [];
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
});
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
  await t.drop();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: t.url,
    REDIS_URL: serviceUrls().redisUrl,
    QUEUE_PREFIX: prefix,
    RETELL_API_KEY: TEST_API_KEY,
    NODE_ENV: 'production',
    WORKER_METRICS_PORT: '0',
    INGRESS_METRICS_PORT: '0',
    ...extra,
  };
}

function start(script: string, extra?: Record<string, string>): Proc {
  const p = run(script, env(extra));
  procs.push(p);
  return p;
}

/**
 * A stored, enqueued event whose call session the test holds locked, so the worker's job blocks on it
 * half-way (row claimed, session not yet written). Under the worker's lock_timeout (5 s).
 */
async function blockedEvent(queue: WebhookQueue) {
  const callId = newCallId('blocked');
  const rowId = await storeEvent(t.db, 'call_started', callId);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  await sql`insert into retell_call_sessions (call_id) values (${callId})`.execute(t.db);
  const holder = t.db.transaction().execute(async (trx) => {
    await sql`select id from retell_call_sessions where call_id = ${callId} for update`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  await enqueueWebhookEvent(queue, { rowId, callId, event: 'call_started' });
  return { rowId, release: async () => (release(), await holder) };
}

describe('graceful shutdown', () => {
  it('ingress: on SIGTERM /readyz answers 503 at once while webhooks are still accepted for SHUTDOWN_DRAIN_MS, then it exits 0', async () => {
    const port = await freePort();
    // Long enough for the requests below; the drain ends the moment the process exits, not before.
    const ingress = start(INGRESS, { PORT: String(port), SHUTDOWN_DRAIN_MS: '4000' });
    const base = `http://127.0.0.1:${port}`;
    await until('ingress ready', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    let exited = false;
    void ingress.exited.then(() => (exited = true));

    ingress.child.kill('SIGTERM');
    await until(
      'readiness to fail',
      async () => ((await fetch(`${base}/readyz`)).status === 503 ? true : undefined),
      5_000,
    );
    const ready = await fetch(`${base}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { status: 'draining' } });

    const callId = newCallId('draining');
    const payload = body('call_started', { callId });
    const res = await fetch(`${base}/api/webhooks/retell`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
      body: payload,
    });
    expect(res.status).toBe(200);
    // Keep-alive clients are told to reconnect, so they move to an instance that stays.
    expect(res.headers.get('connection')).toBe('close');
    expect(exited).toBe(false);
    expect(await ingress.exited).toBe(0);
    expect(await findWebhookEvents(t.db, callId)).toEqual([
      expect.objectContaining({ status: 'pending', delivery_count: 1 }),
    ]);
    expect(ingress.output()).toMatch(/draining: \/readyz answers 503, still serving/);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('ingress: stops accepting but finishes an in-flight request, then exits 0', async () => {
    const port = await freePort();
    const ingress = start(INGRESS, { PORT: String(port), SHUTDOWN_DRAIN_MS: '0' });
    await until('ingress ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    const callId = newCallId();
    const payload = Buffer.from(body('call_started', { callId }));
    const signature = await sign(payload.toString(), TEST_API_KEY);
    const response = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/webhooks/retell',
          headers: {
            'content-type': 'application/json',
            'content-length': payload.length,
            'x-retell-signature': signature,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // Half the body now; SIGTERM arrives while the request is in flight; the rest once it stops.
      req.write(payload.subarray(0, 100));
      // Nothing outside the ingress tells when it has read the first half: a moment on loopback.
      setTimeout(() => {
        ingress.child.kill('SIGTERM');
        until('the ingress to begin shutting down', async () =>
          ingress.output().includes('shutting down') ? true : undefined,
        ).then(() => req.end(payload.subarray(100)), reject);
      }, 200);
    });
    expect(await response).toBe(200);
    expect(await ingress.exited).toBe(0);
    expect(await findWebhookEvents(t.db, callId)).toHaveLength(1);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('worker: finishes the job in flight, then exits 0', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 3, backoffMs: 100 });
    try {
      const event = await blockedEvent(queue);
      const worker = start(WORKER);
      await until('the job to be active', async () =>
        (await (await queue.getJob(webhookJobId(event.rowId)))?.getState()) === 'active' ? true : undefined,
      );
      worker.child.kill('SIGTERM');
      // It has begun to stop, and cannot finish while its job is blocked: it must still be running.
      await until('the worker to begin shutting down', async () =>
        worker.output().includes('shutting down') ? true : undefined,
      );
      expect(worker.child.exitCode).toBeNull();
      await event.release();
      expect(await worker.exited).toBe(0);
      const [row] = await t.db.selectFrom('webhook_events').selectAll().where('id', '=', event.rowId).execute();
      expect(row).toMatchObject({ status: 'processed', attempts: 1 });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('worker: gives up waiting after WORKER_SHUTDOWN_TIMEOUT_MS, exits 0, and another worker takes the job over', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 3, backoffMs: 100 });
    try {
      const event = await blockedEvent(queue);
      const first = start(WORKER, { WORKER_SHUTDOWN_TIMEOUT_MS: '1000' });
      await until('the job to be active', async () =>
        (await (await queue.getJob(webhookJobId(event.rowId)))?.getState()) === 'active' ? true : undefined,
      );
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('leaving them to another worker');
      // The first worker's transaction died with it; the row is still pending.
      await event.release();
      expect(
        (
          await findWebhookEvents(
            t.db,
            (
              await t.db
                .selectFrom('webhook_events')
                .select('call_id')
                .where('id', '=', event.rowId)
                .executeTakeFirstOrThrow()
            ).call_id!,
          )
        )[0]?.status,
      ).toBe('pending');
      start(WORKER);
      const row = await until(
        'another worker to take the job over',
        async () => {
          const r = await t.db
            .selectFrom('webhook_events')
            .selectAll()
            .where('id', '=', event.rowId)
            .executeTakeFirst();
          return r?.status === 'processed' ? r : undefined;
        },
        30_000,
      );
      expect(row.status).toBe('processed');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
