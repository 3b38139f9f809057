import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { recordDelivery } from '@callsync/db/events';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvent, webhookJobData } from '@callsync/queue';
import { LocalPrometheus } from '@callsync/testkit';
import { useTestDatabase } from './support/database';
import { cliEnvironment, serviceUrls } from './support/env';
import { assertBuilt, deleteQueueKeys, freePort, ROOT, run, until, WORKER, type Proc } from './support/processes';

/**
 * The alerts end to end: a real Prometheus on loopback scrapes a running worker process and evaluates
 * ops/prometheus/alerts.yml; an event that fails for good makes CallsyncEventsFailed fire, as seen
 * through Prometheus's own API.
 */
const t = useTestDatabase();
const prefix = `{callsync-prom-${randomUUID().slice(0, 8)}}`;
let worker: Proc | undefined;
let prometheus: LocalPrometheus | undefined;
beforeAll(() => assertBuilt());
afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await prometheus?.stop();
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
});

describe('alerts, evaluated by a real Prometheus', () => {
  it('fires CallsyncEventsFailed after an event fails for good, and not before', async () => {
    const metricsPort = await freePort();
    worker = run(WORKER, {
      ...cliEnvironment(t.url, prefix),
      WORKER_METRICS_PORT: String(metricsPort),
      JOB_ATTEMPTS: '1',
    });
    await until('worker /readyz', async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok ? true : undefined,
    );
    prometheus = await LocalPrometheus.start({
      targets: [{ job: 'callsync-worker', address: `127.0.0.1:${metricsPort}` }],
      ruleFiles: [join(ROOT, 'ops/prometheus/alerts.yml')],
    });
    const p = prometheus;
    // Scraped, with the failed-events counter at 0 (a few samples, so increase() has history).
    await until(
      'Prometheus scraping the worker',
      async () => {
        const r = await p.query(
          'count_over_time(callsync_events_handled_total{outcome="failed",event="call_ended"}[1m])',
        );
        return Number(r[0]?.value[1] ?? 0) >= 3 ? true : undefined;
      },
      30_000,
    );
    expect((await p.query('up{job="callsync-worker"}'))[0]?.value[1]).toBe('1');
    expect((await p.query('callsync_ready{job="callsync-worker"}'))[0]?.value[1]).toBe('1');
    expect((await p.alerts()).filter((a) => a.labels.alertname === 'CallsyncEventsFailed')).toEqual([]);

    // A call_ended whose start_timestamp is not a number: no retry can apply it.
    const body = JSON.stringify({ event: 'call_ended', call: { call_id: 'call_bad_ts', start_timestamp: 'soon' } });
    const row = await recordDelivery(t.db, {
      eventType: 'call_ended',
      callId: 'call_bad_ts',
      dedupeKey: 'call_ended:call_bad_ts',
      payloadJson: body,
      rawBody: Buffer.from(body),
      signature: null,
      source: 'webhook',
    });
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 1, backoffMs: 10 });
    try {
      await enqueueWebhookEvent(
        queue,
        webhookJobData({ id: row.id, event_type: 'call_ended', call_id: 'call_bad_ts' }),
      );
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await until('the row failed', async () => {
      const r = await t.db.selectFrom('webhook_events').select('status').where('id', '=', row.id).executeTakeFirst();
      return r?.status === 'failed' ? true : undefined;
    });
    const alert = await until(
      'CallsyncEventsFailed firing',
      async () => (await p.alerts()).find((a) => a.labels.alertname === 'CallsyncEventsFailed' && a.state === 'firing'),
      30_000,
    );
    expect(alert.labels).toMatchObject({ alertname: 'CallsyncEventsFailed', severity: 'page' });
  }, 90_000);
});
