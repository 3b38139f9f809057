import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findWebhookEvents, recordDelivery } from '@callsync/db/events';
import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvent } from '@callsync/queue';
import { applyRetention, createWebhookWorker } from '@callsync/worker';
import { sampleChatBody, type SampleEvent } from '@callsync/retell';
import { createTestDatabase, truncateAll, type TestDatabase } from './support/database';
import { newCallId, storeAgedEvent } from './support/calls';
import { cliEnvironment, serviceUrls } from './support/env';
import { TEST_KEYS } from './support/keys';
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
  return run(CLI, cliEnvironment(t.url, prefix), args);
}

const stored = (event: string, callId: string, status = 'pending', ageMinutes = 1) =>
  storeAgedEvent(t.db, event as SampleEvent, callId, status, ageMinutes);

describe('make stats', () => {
  it('prints the processing rate, stuck sessions and queue counts, and the same as JSON', async () => {
    await stored('call_started', 'a', 'processed');
    await stored('call_started', 'b', 'failed');
    await stored('call_ended', 'a', 'processed');
    await stored('call_ended', 'old', 'processed', 60 * 30);
    await sql`insert into retell_call_sessions (call_id, call_status, started_at) values ('stuck_call', 'in_progress', now() - interval '25 minutes')`.execute(
      t.db,
    );
    await sql`insert into retell_chat_sessions (chat_id, chat_type, chat_status, started_at) values ('stuck_chat', 'sms_chat', 'ongoing', now() - interval '95 minutes'), ('young_chat', 'api_chat', 'ongoing', now() - interval '15 minutes')`.execute(
      t.db,
    );

    const json = cli('stats', '--json');
    expect(await json.exited).toBe(0);
    const data = JSON.parse(json.output());
    expect(data.processing_rate).toEqual([
      { event_type: 'call_ended', total: 1, processed: 1, pending: 0, failed: 0, success_rate: 100 },
      { event_type: 'call_started', total: 2, processed: 1, pending: 0, failed: 1, success_rate: 50 },
    ]);
    expect(data.stale_sessions).toEqual([expect.objectContaining({ call_id: 'stuck_call', minutes_stuck: 25 })]);
    expect(data.stale_chats).toEqual([
      expect.objectContaining({ chat_id: 'stuck_chat', chat_type: 'sms_chat', minutes_stuck: 95 }),
    ]);
    expect(Object.keys(data.queues)).toEqual([
      'webhooks',
      'reconcile',
      'maintenance',
      'retention',
      'tenants',
      'forwards',
      'audit',
      'alerts',
    ]);
    expect(data.queues.webhooks).toMatchObject({ waiting: 0, failed: 0 });

    const text = cli('stats', '--window', '7d');
    expect(await text.exited).toBe(0);
    expect(text.output()).toMatch(/Processing rate per event type, last 7d/);
    expect(text.output()).toMatch(/call_ended\s+2\s+2\s+0\s+0\s+100\.00/);
    expect(text.output()).toMatch(/Sessions stuck in_progress for more than 10m: 1/);
    expect(text.output()).toMatch(/Chats stuck ongoing for more than 60m: 1\n.*chat_id[\s\S]*stuck_chat\s+sms_chat/);
  });

  it('shows what retention removed', async () => {
    await stored('call_started', 'pruned_1', 'processed', 40 * 1440);
    await stored('call_started', 'pruned_2', 'skipped', 40 * 1440);
    await stored('call_started', 'deleted', 'processed', 200 * 1440);
    await applyRetention(t.db, TEST_KEYS, logger, {
      payloadDays: 30,
      eventRowDays: 180,
      sessionPiiDays: 90,
      failedPayloadDays: 14,
    });

    const json = cli('stats', '--json');
    expect(await json.exited).toBe(0);
    expect(JSON.parse(json.output()).retention).toMatchObject({
      runs: 1,
      payloadsPruned: 2,
      eventRowsDeleted: 1,
      sessionsPiiPruned: 0,
      lastError: null,
    });
    const text = cli('stats');
    expect(await text.exited).toBe(0);
    expect(text.output()).toMatch(
      /Retention, last 24h: 1 run\(s\), newest \S+\n {2}payloads pruned 2, event rows deleted 1, sessions' caller data removed 0, reconcile runs deleted 0/,
    );
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
    const worker = createWebhookWorker({
      db: t.db,
      connection: workerConnection,
      logger,
      prefix,
      concurrency: 2,
      handlers: { ...defaultHandlers, call_ended: handler },
    });
    try {
      const callId = newCallId('replay');
      const id = await stored('call_ended', callId);
      await enqueueWebhookEvent(queue, { rowId: id, callId, event: 'call_ended' });
      await until('the event to fail', async () =>
        (await findWebhookEvents(t.db, callId))[0]?.status === 'failed' ? true : undefined,
      );
      const other = await stored('call_started', newCallId('too_old'), 'failed', 60 * 30);

      // Redis forgets everything (a restart without persistence, or pruning).
      await queue.obliterate({ force: true });
      expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 0 });

      const dry = cli('replay', '--dry-run');
      expect(await dry.exited).toBe(0);
      expect(dry.output()).toMatch(
        new RegExp(
          `^1 event\\(s\\) to replay \\(status failed, last 24h\\)\\n  #${id} call_ended ${callId} failed attempts 1 - CRM rejected the call$`,
          'm',
        ),
      );

      broken = false;
      const p = cli('replay', '--wait');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('replayed 1: 1 new job(s), 0 finished job(s) retried, 0 already queued');
      expect(p.output()).toContain(`#${id} processed`);
      const [row] = await findWebhookEvents(t.db, callId);
      // The replay is recorded next to the original source, which stays.
      expect(row).toMatchObject({
        status: 'processed',
        source: 'webhook',
        replay_count: 1,
        attempts: 2,
        error: null,
        last_replayed_at: expect.any(Date),
      });
      // Outside the default window: untouched.
      expect(
        await t.db
          .selectFrom('webhook_events')
          .select(['status', 'replay_count'])
          .where('id', '=', other)
          .executeTakeFirstOrThrow(),
      ).toEqual({ status: 'failed', replay_count: 0 });
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    }
  });

  it('refuses rows whose payload retention removed, with a count and the reason, and replays the rest', async () => {
    const prunedId = await stored('call_ended', newCallId('pruned'), 'processed', 40 * 1440);
    const keptId = await stored('call_ended', newCallId('kept'), 'processed', 60);
    await applyRetention(t.db, TEST_KEYS, logger, {
      payloadDays: 30,
      eventRowDays: 180,
      sessionPiiDays: 90,
      failedPayloadDays: 14,
    });

    const p = cli('replay', '--status', 'processed', '--since', '60d');
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(new RegExp(`^1 event\\(s\\) to replay .*\\n  #${keptId} call_ended`, 'm'));
    expect(p.output()).toContain(
      '1 event(s) refused: retention removed their payload (older than RETENTION_DAYS), so there is nothing to apply again',
    );
    const rows = await t.db
      .selectFrom('webhook_events')
      .select(['id', 'status', 'replay_count', 'source'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: prunedId, status: 'processed', replay_count: 0, source: 'webhook' },
      { id: keptId, status: 'pending', replay_count: 1, source: 'webhook' },
    ]);
    await sql`update webhook_events set status = 'processed' where id = ${keptId}`.execute(t.db);
  });

  it("picks a chat's events by its chat id", async () => {
    const chatId = newCallId('chat');
    const payload = sampleChatBody({ chatId }, 'chat_ended');
    const { id } = await recordDelivery(t.db, {
      eventType: 'chat_ended',
      callId: null,
      chatId,
      dedupeKey: `chat_ended:${chatId}`,
      payloadJson: payload,
      rawBody: Buffer.from(payload),
      signature: null,
      source: 'webhook',
    });
    await sql`update webhook_events set status = 'failed', attempts = 3, error = 'boom' where id = ${id}`.execute(t.db);
    const dry = cli('replay', '--call-id', chatId, '--dry-run');
    expect(await dry.exited).toBe(0);
    expect(dry.output()).toContain(`#${id} chat_ended ${chatId} failed attempts 3 - boom`);
  });

  it('says what is wrong with a bad flag', async () => {
    const p = cli('replay', '--status', 'broken');
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/--status: "broken" is not one of failed, pending, processed, skipped/);
  });
});

describe('make backfill-fields', () => {
  it('fills sessions stored before the fields were columns, and says how many', async () => {
    await sql`insert into retell_call_sessions (call_id, call_status, analysis, fields_version)
      values ('old_call', 'ended', '{"call_successful": true, "user_sentiment": "Neutral", "call_summary": "Kurz."}', null),
             ('new_call', 'ended', null, 1)`.execute(t.db);
    const done = cli('backfill-fields', '--batch', '1');
    expect(await done.exited).toBe(0);
    expect(done.output()).toMatch(/\[backfill-fields\] 1 call session\(s\) filled/);
    const rows = await t.db
      .selectFrom('retell_call_sessions')
      .select(['call_id', 'call_successful', 'user_sentiment', 'call_summary', 'fields_version'])
      .orderBy('call_id')
      .execute();
    expect(rows).toEqual([
      { call_id: 'new_call', call_successful: null, user_sentiment: null, call_summary: null, fields_version: 1 },
      {
        call_id: 'old_call',
        call_successful: true,
        user_sentiment: 'Neutral',
        call_summary: 'Kurz.',
        fields_version: 1,
      },
    ]);
    const bad = cli('backfill-fields', '--batch', 'lots');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--batch must be a whole number');
  });
});
