import { randomUUID } from 'node:crypto';
import { sign } from 'retell-sdk';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { createQueues, createRedisConnection } from '@callsync/queue';
import { sampleCall } from '@callsync/retell';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { body, newCallId } from '../test/support/calls';
import { TEST_API_KEY } from '../test/support/env';
import { startFakeRetell } from '../test/support/fake-retell';
import { assertBuilt, CLI, freePort, INGRESS, run, until, WORKER, type Proc } from '../test/support/processes';

/**
 * The pipeline and reconciliation end to end on a 3-master Redis Cluster (scripts/redis-cluster.sh):
 * the built ingress and two workers, configured only with REDIS_CLUSTER_NODES.
 */
const nodes = process.env.REDIS_CLUSTER_NODES;
let t: TestDatabase;
let f: Awaited<ReturnType<typeof startFakeRetell>>;
const procs: Proc[] = [];
const prefix = `{callsync-cluster-${randomUUID().slice(0, 8)}}`;

beforeAll(async () => {
  if (!nodes) throw new Error('REDIS_CLUSTER_NODES is not set: run `make test-cluster`');
  assertBuilt();
  t = await createTestDatabase();
  f = await startFakeRetell();
});
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await f?.fake.stop();
  await t?.drop();
});

describe('on a Redis Cluster', () => {
  it('processes signed deliveries, closes a stale call by scheduled reconciliation, and by hand', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: t.url,
      REDIS_CLUSTER_NODES: nodes!,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      RETELL_API_BASE_URL: f.baseUrl,
      PORT: String(port),
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: '0',
      INGRESS_METRICS_PORT: '0',
      RECONCILE_EVERY_MINUTES: '0.02',
      STALE_AFTER_MINUTES: '5',
    };
    procs.push(run(INGRESS, env), run(WORKER, env), run(WORKER, env));
    const url = `http://127.0.0.1:${port}`;
    await until('ingress ready', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));

    const deliver = async (payload: string) => {
      const res = await fetch(`${url}/api/webhooks/retell`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
        body: payload,
      });
      expect(res.status).toBe(200);
    };
    const full = newCallId('cluster_full');
    for (const e of ['call_analyzed', 'call_started', 'call_ended'] as const) await deliver(body(e, { callId: full }));
    await deliver(body('call_ended', { callId: full })); // a redelivery

    const stale = newCallId('cluster_stale');
    const startMs = Date.now() - 20 * 60_000;
    await deliver(body('call_started', { callId: stale, startMs }));
    f.fake.setCall(sampleCall({ callId: stale, startMs, disconnectionReason: 'inactivity' }, 'call_ended'));

    const events = await until('the full call to be processed', async () => {
      const rows = await findWebhookEvents(t.db, full);
      return rows.length === 3 && rows.every((r) => r.status === 'processed') ? rows : undefined;
    });
    expect(events.find((e) => e.event_type === 'call_ended')?.delivery_count).toBe(2);
    expect(await findCallSession(t.db, full)).toMatchObject({ call_status: 'ended', lifecycle_rank: 3 });

    const closed = await until('the scheduled pass to close the stale call', async () => {
      const s = await findCallSession(t.db, stale);
      return s?.call_status === 'ended' ? s : undefined;
    });
    expect(closed.disconnection_reason).toBe('inactivity');

    // make reconcile by hand, against the same cluster.
    const another = newCallId('cluster_manual');
    await deliver(body('call_started', { callId: another, startMs }));
    f.fake.setCall(sampleCall({ callId: another, startMs }, 'call_ended'));
    const manual = run(CLI, env, ['reconcile', '--call-id', another]);
    expect(await manual.exited).toBe(0);
    expect(manual.output()).toMatch(/ended 1/);

    // The queues live under the hash-tagged prefix, on the cluster.
    const connection = createRedisConnection({
      clusterNodes: nodes!.split(',').map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })),
    });
    const queues = createQueues(connection, prefix, { attempts: 1, backoffMs: 1 });
    try {
      expect((await queues.webhooks.getJobCounts('completed')).completed).toBeGreaterThanOrEqual(5);
      expect((await queues.reconcile.getJobCounts('completed')).completed).toBeGreaterThanOrEqual(1);
    } finally {
      await queues.close();
      connection.disconnect();
    }

    for (const p of procs) p.child.kill('SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0]);
  });
});
