import { sql } from 'kysely';
import { findCallSession, updateCallSessions } from '@callsync/db/sessions';
import { findCallerHashSalt } from '@callsync/db/privacy';
import { callerHashesOf, legacyCallerHash } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { applyRetention } from '@callsync/worker';
import { useTestDatabase, truncateAll } from './support/database';
import { storeAgedEvent } from './support/calls';
import { TEST_KEYS } from './support/keys';

/** Each retention setting removes exactly what it says, and nothing newer. */
const t = useTestDatabase();
const logger = createLogger({ silent: true });
const DAY = 1440;
beforeEach(() => truncateAll(t.db));

async function events() {
  const rows = await t.db
    .selectFrom('webhook_events')
    .select(['event_id', 'status', 'payload', 'raw_body', 'pruned_at'])
    .orderBy('id')
    .execute();
  return new Map(rows.map((r) => [r.event_id, r]));
}

interface SessionSeed {
  callId: string;
  status?: string;
  endedDaysAgo: number | null;
  from?: string | null;
  to?: string | null;
  direction?: string | null;
  callType?: string;
}

async function session(s: SessionSeed): Promise<void> {
  await sql`
    insert into retell_call_sessions (call_id, call_status, call_type, direction, from_number, to_number, transcript, recording_url, started_at, ended_at, analysis)
    values (${s.callId}, ${s.status ?? 'ended'}, ${s.callType ?? 'phone_call'}, ${s.direction === undefined ? 'inbound' : s.direction},
            ${s.from === undefined ? '+491604366218' : s.from}, ${s.to === undefined ? '+493033081738' : s.to},
            'Agent: Hallo, Praxis Dr. Weber.', 'https://example.invalid/rec.wav',
            now() - make_interval(days => ${(s.endedDaysAgo ?? 0) + 1}), ${s.endedDaysAgo === null ? null : sql`now() - make_interval(days => ${s.endedDaysAgo})`},
            '{"call_summary": "booked"}')`.execute(t.db);
}

describe('RETENTION_DAYS: payloads', () => {
  it('strips payload, raw body and signature of applied events older than the setting, failed ones after FAILED_EVENT_RETENTION_DAYS; pending and newer rows keep theirs', async () => {
    await storeAgedEvent(t.db, 'call_started', 'old_processed', 'processed', 31 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'old_skipped', 'skipped', 31 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'old_failed', 'failed', 15 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'recent_failed', 'failed', 13 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'old_pending', 'pending', 31 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'newer', 'processed', 29 * DAY);

    const r = await applyRetention(
      t.db,
      TEST_KEYS,
      logger,
      { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 },
      new Date(),
      1,
    );
    expect(r).toMatchObject({ payloadsPruned: 2, failedPayloadsPruned: 1, eventRowsDeleted: 0, sessionsPiiPruned: 0 });
    const rows = await events();
    for (const id of ['old_processed', 'old_skipped', 'old_failed'])
      expect(rows.get(id)).toMatchObject({ payload: {}, raw_body: null, pruned_at: expect.any(Date) });
    for (const id of ['recent_failed', 'old_pending', 'newer'])
      expect(rows.get(id)).toMatchObject({
        payload: expect.objectContaining({ event: 'call_started' }),
        raw_body: expect.any(Buffer),
        pruned_at: null,
      });
    expect(rows.size).toBe(6);
  });
});

describe('EVENT_ROWS_RETENTION_DAYS: whole rows', () => {
  it('deletes applied and failed rows older than the setting, never pending ones, and nothing newer', async () => {
    await storeAgedEvent(t.db, 'call_started', 'old_processed', 'processed', 61 * DAY);
    await storeAgedEvent(t.db, 'call_ended', 'old_failed', 'failed', 61 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'old_skipped', 'skipped', 61 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'old_pending', 'pending', 61 * DAY);
    await storeAgedEvent(t.db, 'call_started', 'newer_failed', 'failed', 59 * DAY);
    await sql`insert into reconcile_runs (trigger, runner, started_at) values ('scheduled', 'x', now() - interval '61 days'), ('scheduled', 'x', now() - interval '59 days')`.execute(
      t.db,
    );
    // The bookkeeping of audits and alert mails goes after the same period.
    await sql`insert into audit_runs (run_id, trigger, company, window_start, window_end, grace_seconds, finished_at)
      select gen_random_uuid(), 'scheduled', 'unmapped', now(), now(), 0, now() - d * interval '1 day' from unnest(array[61, 59]) as d`.execute(
      t.db,
    );
    await sql`insert into alert_messages (dedupe_key, channel, kind, subject, body, created_at, sent_at)
      select 'k' || d, 'email', 'summary', 'daily', 'text', now() - d * interval '1 day', now() from unnest(array[61, 59]) as d`.execute(
      t.db,
    );

    const r = await applyRetention(
      t.db,
      TEST_KEYS,
      logger,
      { payloadDays: 30, eventRowDays: 60, sessionPiiDays: 90, failedPayloadDays: 60 },
      new Date(),
      2,
    );
    expect(r).toMatchObject({ eventRowsDeleted: 3, reconcileRunsDeleted: 3 });
    expect([...(await events()).keys()]).toEqual(['old_pending', 'newer_failed']);
    // The failed row within its window (FAILED_EVENT_RETENTION_DAYS) keeps its payload, so it can still be replayed.
    expect((await events()).get('newer_failed')).toMatchObject({ raw_body: expect.any(Buffer), pruned_at: null });
    expect(await t.db.selectFrom('reconcile_runs').select('id').execute()).toHaveLength(1);
    expect(await t.db.selectFrom('audit_runs').select('id').execute()).toHaveLength(1);
    expect((await sql<{ n: number }>`select count(*)::int as n from alert_messages`.execute(t.db)).rows[0]!.n).toBe(1);
  });
});

describe('SESSION_PII_RETENTION_DAYS: caller data', () => {
  const policy = { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 };

  it('removes numbers, transcript, recording URL, summary and analysis of sessions that ended (or started and never ended) before the setting, keeping a keyed hash of the caller', async () => {
    await session({ callId: 'old_inbound', endedDaysAgo: 91 });
    await session({
      callId: 'old_outbound',
      endedDaysAgo: 91,
      direction: 'outbound',
      from: '+493033081738',
      to: '+447911123456',
    });
    await session({ callId: 'old_withheld', endedDaysAgo: 91, from: 'anonymous' });
    await session({ callId: 'old_web', endedDaysAgo: 91, from: null, to: null, direction: null, callType: 'web_call' });
    await session({ callId: 'newer', endedDaysAgo: 89 });
    await session({ callId: 'still_running', status: 'in_progress', endedDaysAgo: null });
    await session({ callId: 'never_ended', status: 'in_progress', endedDaysAgo: null });
    await sql`update retell_call_sessions set started_at = now() - interval '200 days' where call_id = 'never_ended'`.execute(
      t.db,
    );
    await sql`update retell_call_sessions set metadata = '{"patient": "Erika"}', call_summary = 'booked',
      retell_llm_dynamic_variables = '{"customer_name": "Erika"}', collected_dynamic_variables = '{"dob": "1970-01-01"}',
      transfers = '[{"destination": "+493012345678"}]', call_successful = true`.execute(t.db);

    const r = await applyRetention(t.db, TEST_KEYS, logger, policy, new Date(), 1);
    expect(r.sessionsPiiPruned).toBe(5);

    const inbound = await findCallSession(t.db, 'old_inbound');
    expect(inbound).toMatchObject({
      from_number: null,
      to_number: null,
      transcript: null,
      recording_url: null,
      pii_pruned_at: expect.any(Date),
      call_status: 'ended',
      caller_withheld: false,
    });
    expect(inbound!.caller_hash).toMatch(new RegExp(`^hmac:v1:${TEST_KEYS.keyId}:[0-9a-f]{64}$`));
    // Everything about the caller goes; what the reports count stays.
    expect(inbound).toMatchObject({
      analysis: null,
      call_summary: null,
      metadata: null,
      retell_llm_dynamic_variables: null,
      collected_dynamic_variables: null,
      transfers: [],
      call_successful: true,
      reconcile_stopped_at: expect.any(Date),
    });
    // A call that never ended is pruned by its start.
    expect(await findCallSession(t.db, 'never_ended')).toMatchObject({
      call_status: 'in_progress',
      from_number: null,
      transcript: null,
      pii_pruned_at: expect.any(Date),
    });
    // The hash is keyed with the secret key: neither a plain hash of the number nor the salted one
    // (whose salt is in the same database) is stored, so a dump cannot be checked against numbers.
    const salt = await findCallerHashSalt(t.db);
    expect(inbound!.caller_hash).toBe(TEST_KEYS.callerHash('+491604366218', salt));
    const { rows } = await sql<{
      plain: string;
    }>`select encode(sha256('+491604366218'::bytea), 'hex') as plain`.execute(t.db);
    expect(inbound!.caller_hash).not.toContain(rows[0]!.plain);
    expect(inbound!.caller_hash).not.toContain(legacyCallerHash('+491604366218', salt));
    // Outbound: the customer is the number called.
    const outbound = await findCallSession(t.db, 'old_outbound');
    expect(outbound).toMatchObject({
      from_number: null,
      to_number: null,
      caller_hash: TEST_KEYS.callerHash('+447911123456', salt),
    });
    // "anonymous" names no one: it stays, and so does the flag.
    expect(await findCallSession(t.db, 'old_withheld')).toMatchObject({
      from_number: 'anonymous',
      caller_withheld: true,
      caller_anonymous: true,
      caller_hash: null,
      transcript: null,
    });
    expect(await findCallSession(t.db, 'old_web')).toMatchObject({
      caller_withheld: false,
      caller_hash: null,
      transcript: null,
      pii_pruned_at: expect.any(Date),
    });
    for (const callId of ['newer', 'still_running']) {
      expect(await findCallSession(t.db, callId)).toMatchObject({
        from_number: '+491604366218',
        transcript: 'Agent: Hallo, Praxis Dr. Weber.',
        recording_url: expect.any(String),
        pii_pruned_at: null,
        caller_hash: null,
      });
    }
    expect((await applyRetention(t.db, TEST_KEYS, logger, policy)).sessionsPiiPruned).toBe(0);
  });

  it('removes transcript, summary and analysis of chats that ended (or started and never ended) before the setting', async () => {
    await sql`
      insert into retell_chat_sessions (chat_id, chat_status, transcript, analysis, chat_summary, started_at, ended_at) values
        ('old_chat', 'ended', 'User: Termin morgen?', '{"chat_summary": "booked"}', 'booked', now() - interval '92 days', now() - interval '91 days'),
        ('new_chat', 'ended', 'User: Termin morgen?', null, null, now() - interval '90 days', now() - interval '89 days'),
        ('open_chat', 'ongoing', 'User: Termin morgen?', null, null, now() - interval '200 days', null)`.execute(t.db);
    expect((await applyRetention(t.db, TEST_KEYS, logger, policy, new Date(), 1)).sessionsPiiPruned).toBe(2);
    const chats = await t.db
      .selectFrom('retell_chat_sessions')
      .select(['chat_id', 'transcript', 'chat_summary', 'pii_pruned_at'])
      .orderBy('chat_id')
      .execute();
    expect(chats).toEqual([
      { chat_id: 'new_chat', transcript: 'User: Termin morgen?', chat_summary: null, pii_pruned_at: null },
      { chat_id: 'old_chat', transcript: null, chat_summary: null, pii_pruned_at: expect.any(Date) },
      { chat_id: 'open_chat', transcript: null, chat_summary: null, pii_pruned_at: expect.any(Date) },
    ]);
  });

  it('still counts a returning caller across pruned and current sessions', async () => {
    await session({ callId: 'first', endedDaysAgo: 120 });
    await session({ callId: 'second', endedDaysAgo: 100 });
    await session({ callId: 'today', endedDaysAgo: 0 });
    await session({ callId: 'someone_else', endedDaysAgo: 100, from: '+14155550123' });
    await applyRetention(t.db, TEST_KEYS, logger, policy);
    const hashes = await callerHashesOf(t.db, TEST_KEYS, '+491604366218');
    const { rows } = await sql<{ calls: string }>`
      select count(*) as calls from retell_call_sessions
      where from_number = '+491604366218' or caller_hash = any(${hashes}::text[])`.execute(t.db);
    expect(Number(rows[0]!.calls)).toBe(3);
  });

  it('a late event that brings caller data back makes the session due again', async () => {
    await session({ callId: 'rerun', endedDaysAgo: 120 });
    await applyRetention(t.db, TEST_KEYS, logger, policy);
    const pruned = (await findCallSession(t.db, 'rerun'))!;
    // What the worker writes when a re-run analysis (with the full call object) is applied.
    const {
      id: _id,
      call_id: _c,
      created_at: _ca,
      updated_at: _u,
      caller_anonymous: _a,
      caller_withheld: _w,
      caller_hash: _h,
      pii_pruned_at: _p,
      ...values
    } = pruned;
    await updateCallSessions(t.db, [
      {
        callId: 'rerun',
        values: {
          ...values,
          analysis: JSON.stringify(values.analysis),
          call_cost: null,
          metadata: null,
          from_number: '+491604366218',
        },
      },
    ]);
    expect(await findCallSession(t.db, 'rerun')).toMatchObject({ from_number: '+491604366218', pii_pruned_at: null });
    expect((await applyRetention(t.db, TEST_KEYS, logger, policy)).sessionsPiiPruned).toBe(1);
    expect(await findCallSession(t.db, 'rerun')).toMatchObject({ from_number: null, pii_pruned_at: expect.any(Date) });
  });
});

describe('retention runs', () => {
  it('records every run with the policy it applied', async () => {
    await storeAgedEvent(t.db, 'call_started', 'old', 'processed', 31 * DAY);
    await applyRetention(t.db, TEST_KEYS, logger, {
      payloadDays: 30,
      eventRowDays: 180,
      sessionPiiDays: 90,
      failedPayloadDays: 14,
    });
    const runs = await t.db.selectFrom('retention_runs').selectAll().execute();
    expect(runs).toEqual([
      expect.objectContaining({
        payload_days: '30',
        event_row_days: '180',
        session_pii_days: '90',
        payloads_pruned: 1,
        event_rows_deleted: 0,
        finished_at: expect.any(Date),
        error: null,
      }),
    ]);
  });
});
