import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findWebhookEvents, recordDelivery } from '@callsync/db';
import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvent } from '@callsync/queue';
import { applyRetention, createWebhookWorker } from '@callsync/worker';
import { createTestDatabase, truncateAll, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, CLI, deleteQueueKeys, run, until } from './support/processes';

/** `make stats`, `make replay` and retention, against the real services. */
let t: TestDatabase;
const prefix = `{callsync-ops-${randomUUID().slice(0, 8)}}`;
const logger = createLogger({ silent: true });
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
});
afterAll(async () => {
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
  await t.drop();
});
beforeEach(() => truncateAll(t.db));

function cli(...args: string[]) {
  return run(CLI, { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, QUEUE_PREFIX: prefix, RETELL_API_KEY: TEST_API_KEY, NODE_ENV: 'production' }, args);
}

async function stored(event: string, callId: string, status = 'pending', ageMinutes = 1): Promise<string> {
  const payload = body(event as 'call_started', { callId });
  const r = await recordDelivery(t.db, { eventType: event, callId, dedupeKey: `${event}:${callId}`, payloadJson: payload, rawBody: Buffer.from(payload), signature: 'v=1,d=x', source: 'webhook' });
  await sql`update webhook_events set status = ${status}, created_at = now() - make_interval(mins => ${ageMinutes}), processed_at = case when ${status} = 'pending' then null else now() - make_interval(mins => ${ageMinutes}) end where id = ${r.id}`.execute(t.db);
  return r.id;
}

describe('make stats', () => {
  it('prints the processing rate, stuck sessions and queue counts, and the same as JSON', async () => {
    await stored('call_started', 'a', 'processed');
    await stored('call_started', 'b', 'failed');
    await stored('call_ended', 'a', 'processed');
    await stored('call_ended', 'old', 'processed', 60 * 30);
    await sql`insert into retell_call_sessions (call_id, call_status, started_at) values ('stuck_call', 'in_progress', now() - interval '25 minutes')`.execute(t.db);

    const json = cli('stats', '--json');
    expect(await json.exited).toBe(0);
    const data = JSON.parse(json.output());
    expect(data.processing_rate).toEqual([
      { event_type: 'call_ended', total: 1, processed: 1, pending: 0, failed: 0, success_rate: 100 },
      { event_type: 'call_started', total: 2, processed: 1, pending: 0, failed: 1, success_rate: 50 },
    ]);
    expect(data.stale_sessions).toEqual([expect.objectContaining({ call_id: 'stuck_call', minutes_stuck: 25 })]);
    expect(Object.keys(data.queues)).toEqual(['webhooks', 'reconcile', 'maintenance']);
    expect(data.queues.webhooks).toMatchObject({ waiting: 0, failed: 0 });

    const text = cli('stats', '--window', '7d');
    expect(await text.exited).toBe(0);
    expect(text.output()).toMatch(/Processing rate per event type, last 7d/);
    expect(text.output()).toMatch(/call_ended\s+2\s+2\s+0\s+0\s+100\.00/);
    expect(text.output()).toMatch(/Sessions stuck in_progress for more than 10m: 1/);
  });
});

describe('make replay', () => {
  it('re-runs failed events from Postgres after Redis lost their jobs, recording the replay on the row', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 1, backoffMs: 10 });
    let broken = true;
    const handler: EventHandler = async (db, e) => {
      if (broken) throw new Error('CRM rejected the call');
      await defaultHandlers.call_ended!(db, e);
    };
    const workerConnection = createRedisConnection({ url: serviceUrls().redisUrl });
    const worker = createWebhookWorker({ db: t.db, connection: workerConnection, logger, prefix, concurrency: 2, handlers: { ...defaultHandlers, call_ended: handler } });
    try {
      const callId = newCallId('replay');
      const id = await stored('call_ended', callId);
      await enqueueWebhookEvent(queue, { rowId: id, callId, event: 'call_ended' });
      await until('the event to fail', async () => ((await findWebhookEvents(t.db, callId))[0]?.status === 'failed' ? true : undefined));
      const other = await stored('call_started', newCallId('too_old'), 'failed', 60 * 30);

      // Redis forgets everything (a restart without persistence, or pruning).
      await queue.obliterate({ force: true });
      expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 0 });

      const dry = cli('replay', '--dry-run');
      expect(await dry.exited).toBe(0);
      expect(dry.output()).toMatch(new RegExp(`^1 event\\(s\\) to replay \\(status failed, last 24h\\)\\n  #${id} call_ended ${callId} failed attempts 1 - CRM rejected the call$`, 'm'));

      broken = false;
      const p = cli('replay', '--wait');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('replayed 1: 1 new job(s), 0 finished job(s) retried, 0 already queued');
      expect(p.output()).toContain(`#${id} processed`);
      const [row] = await findWebhookEvents(t.db, callId);
      expect(row).toMatchObject({ status: 'processed', source: 'replay', replay_count: 1, attempts: 2, error: null });
      // Outside the default window: untouched.
      expect((await t.db.selectFrom('webhook_events').select(['status', 'replay_count']).where('id', '=', other).executeTakeFirstOrThrow())).toEqual({ status: 'failed', replay_count: 0 });
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    }
  });

  it('says what is wrong with a bad flag', async () => {
    const p = cli('replay', '--status', 'broken');
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/--status: "broken" is not one of failed, pending, processed, skipped/);
  });
});

describe('retention', () => {
  it('strips payload, raw body and signature of applied events older than RETENTION_DAYS, and nothing else', async () => {
    const oldProcessed = await stored('call_started', 'old_p', 'processed', 40 * 1440);
    const oldSkipped = await stored('transcript_updated', 'old_s', 'skipped', 40 * 1440);
    const oldFailed = await stored('call_ended', 'old_f', 'failed', 40 * 1440);
    const recent = await stored('call_ended', 'recent', 'processed', 60);
    await sql`insert into reconcile_runs (trigger, runner, started_at) values ('scheduled', 'x', now() - interval '40 days'), ('scheduled', 'x', now())`.execute(t.db);

    expect(await applyRetention(t.db, logger, 30, new Date(), 1)).toEqual({ pruned: 2, runsDeleted: 1 });
    const rows = await t.db.selectFrom('webhook_events').select(['id', 'payload', 'raw_body', 'signature', 'pruned_at']).orderBy('id').execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of [oldProcessed, oldSkipped]) expect(byId.get(id)).toMatchObject({ payload: {}, raw_body: null, signature: null, pruned_at: expect.any(Date) });
    for (const id of [oldFailed, recent]) expect(byId.get(id)).toMatchObject({ raw_body: expect.any(Buffer), pruned_at: null });
    // Rows stay: reports and dedupe keep working.
    expect(rows).toHaveLength(4);
    expect(await applyRetention(t.db, logger, 30)).toEqual({ pruned: 0, runsDeleted: 0 });
  });
});
