import { sql } from 'kysely';
import { type Db } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import {
  defaultHandlers,
  NOTHING_NEW,
  runReconcilePass,
  type CallReport,
  type ReconcileOptions,
} from '@callsync/domain';
import { sampleCall, sampleChat, sampleChatBody } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { clientRecordingWaits, startFakeRetell } from './support/fake-retell';
import { startPipeline } from './support/pipeline';

const t = useTestDatabase();
let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeEach(async () => {
  await truncateAll(t.db);
  await sql`truncate reconcile_runs`.execute(t.db);
  f = await startFakeRetell({ maxRetries: 2 });
});
afterEach(() => f.fake.stop());

const MIN = 60_000;

/** A session that got only call_started, `ageMin` minutes ago (a real webhook through the pipeline). */
async function startedOnly(db: Db, ageMin: number, label = 'stale'): Promise<{ callId: string; startMs: number }> {
  const callId = newCallId(label);
  const startMs = Date.now() - ageMin * MIN;
  const p = await startPipeline(db);
  try {
    const res = await p.deliver(body('call_started', { callId, startMs }));
    await p.settled([res.body.id]);
  } finally {
    await p.close();
  }
  return { callId, startMs };
}

async function pass(extra: Partial<ReconcileOptions> = {}, retell = f.client) {
  const reports: CallReport[] = [];
  const summary = await runReconcilePass(
    { db: t.db, retell, handlers: defaultHandlers },
    {
      trigger: 'manual',
      runner: 'test',
      staleAfterMinutes: 5,
      analysisAfterMinutes: 30,
      maxTries: 3,
      onCall: (r) => reports.push(r),
      ...extra,
    },
  );
  return { summary, reports };
}

describe('reconciliation pass', () => {
  it("closes a stale call that Retell says ended, with Retell's end time, duration and reason", async () => {
    const { callId, startMs } = await startedOnly(t.db, 12);
    f.fake.setCall(
      sampleCall({ callId, startMs, durationMs: 95_000, disconnectionReason: 'agent_hangup' }, 'call_ended'),
    );
    const { summary } = await pass();
    expect(summary).toMatchObject({ found: 1, ended: 1, ongoing: 0, not_found: 0, failed: 0 });
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'ended',
      ended_at: new Date(startMs + 95_000),
      duration_ms: '95000',
      disconnection_reason: 'agent_hangup',
    });
    const events = await findWebhookEvents(t.db, callId);
    expect(events.map((e) => [e.event_type, e.source, e.status])).toEqual([
      ['call_started', 'webhook', 'processed'],
      ['call_ended', 'reconcile', 'processed'],
    ]);
    const [run] = await t.db.selectFrom('reconcile_runs').selectAll().execute();
    expect(run).toMatchObject({ trigger: 'manual', found: 1, ended: 1, failed: 0, error: null });
    expect(run?.finished_at).toBeInstanceOf(Date);
  });

  it('applies the analysis too when Retell already has it', async () => {
    const { callId, startMs } = await startedOnly(t.db, 40);
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_analyzed'));
    await pass();
    const s = await findCallSession(t.db, callId);
    expect(s).toMatchObject({ call_status: 'ended', lifecycle_rank: 3 });
    expect(s?.analysis).toMatchObject({ call_successful: true });
  });

  it('leaves a call that is still ongoing unchanged, recording when it was checked', async () => {
    const { callId, startMs } = await startedOnly(t.db, 8);
    const before = await findCallSession(t.db, callId);
    f.fake.setCall({ ...sampleCall({ callId, startMs }, 'call_started'), call_status: 'ongoing' });
    const { summary } = await pass();
    expect(summary).toMatchObject({ found: 1, ongoing: 1, ended: 0 });
    const after = await findCallSession(t.db, callId);
    expect(after?.reconcile_checked_at).toBeInstanceOf(Date);
    const { reconcile_checked_at: _a, updated_at: _b, ...rest } = after!;
    const { reconcile_checked_at: _c, updated_at: _d, ...restBefore } = before!;
    expect(rest).toEqual(restBefore);
  });

  it('does not ask about calls younger than the threshold', async () => {
    await startedOnly(t.db, 2, 'young');
    const { summary } = await pass();
    expect(summary.found).toBe(0);
    expect(f.fake.getCallRequests()).toHaveLength(0);
  });

  it('counts 422 and 404 as not found, then stops polling the session', async () => {
    const a = await startedOnly(t.db, 10, 'gone422');
    const b = await startedOnly(t.db, 10, 'gone404');
    f.fake.behave(b.callId, { status: 404 });
    for (let i = 1; i <= 3; i++) {
      const { summary } = await pass();
      expect(summary).toMatchObject({ found: 2, not_found: 2 });
      const s = await findCallSession(t.db, a.callId);
      expect(s?.reconcile_not_found_count).toBe(i);
      expect(s?.reconcile_stopped_at === null).toBe(i < 3);
    }
    expect((await findCallSession(t.db, b.callId))?.reconcile_stopped_at).toBeInstanceOf(Date);
    const asked = f.fake.getCallRequests().length;
    const { summary } = await pass();
    expect(summary.found).toBe(0);
    expect(f.fake.getCallRequests()).toHaveLength(asked);
    expect((await findCallSession(t.db, a.callId))?.call_status).toBe('in_progress');
  });

  it('honours a 429 with retry-after, then applies the answer', async () => {
    const { callId, startMs } = await startedOnly(t.db, 10);
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    f.fake.behave(callId, { status: 429, retryAfterSec: 1, times: 1 });
    // The client's waits recorded instead of slept, against a clock that stands still: exact.
    const { client, waits } = clientRecordingWaits(f.baseUrl, { maxRetries: 2 });
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const { summary } = await pass({ now: () => new Date(now) }, client).finally(() => clock.mockRestore());
    expect(summary).toMatchObject({ ended: 1, failed: 0 });
    expect(f.fake.getCallRequests(callId).map((r) => r.status)).toEqual([429, 200]);
    // Retry-after's second, exactly; the pass's later requests (discovery) fall in the same still
    // instant, so they wait it out too.
    expect(waits[0]).toBe(1000);
    expect((await findCallSession(t.db, callId))?.call_status).toBe('ended');
  });

  it('counts a transient failure and tries again on the next pass', async () => {
    const { callId, startMs } = await startedOnly(t.db, 10);
    f.fake.behave(callId, { status: 500, times: 3 });
    const first = await pass();
    expect(first.summary).toMatchObject({ found: 1, failed: 1 });
    expect(first.reports[0]?.detail).toMatch(/status 500/);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'in_progress',
      reconcile_failure_count: 1,
      reconcile_stopped_at: null,
    });
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    const second = await pass();
    expect(second.summary).toMatchObject({ ended: 1, failed: 0 });
  });

  it('stops polling a session after maxFailures failed checks in a row; an answer in between resets the count', async () => {
    const { callId } = await startedOnly(t.db, 10);
    f.fake.behave(callId, { status: 500, times: 1000 });
    await pass({ maxFailures: 3 });
    await pass({ maxFailures: 3 });
    expect(await findCallSession(t.db, callId)).toMatchObject({
      reconcile_failure_count: 2,
      reconcile_stopped_at: null,
    });
    const third = await pass({ maxFailures: 3 });
    expect(third.summary).toMatchObject({ found: 1, failed: 1 });
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'in_progress',
      reconcile_failure_count: 3,
      reconcile_stopped_at: expect.any(Date),
    });
    // No longer asked about.
    expect((await pass({ maxFailures: 3 })).summary).toMatchObject({ found: 0 });

    // Two failures, then an answer (still ongoing), then two more failures: never three in a row.
    const other = await startedOnly(t.db, 10, 'flaky');
    f.fake.setCall(sampleCall({ callId: other.callId, startMs: other.startMs }, 'call_started'));
    f.fake.behave(other.callId, { status: 500, times: 1000 });
    await pass({ maxFailures: 3 });
    // Requests one failed check makes (the client's tries), to script exactly the next failures.
    const perCheck = f.fake.getCallRequests(other.callId).length;
    const failChecks = (checks: number) => f.fake.behave(other.callId, { status: 500, times: checks * perCheck });
    failChecks(1);
    await pass({ maxFailures: 3 });
    expect(await findCallSession(t.db, other.callId)).toMatchObject({ reconcile_failure_count: 2 });
    expect((await pass({ maxFailures: 3 })).summary).toMatchObject({ ongoing: 1 });
    expect(await findCallSession(t.db, other.callId)).toMatchObject({
      reconcile_failure_count: 0,
      reconcile_stopped_at: null,
    });
    failChecks(2);
    await pass({ maxFailures: 3 });
    await pass({ maxFailures: 3 });
    expect(await findCallSession(t.db, other.callId)).toMatchObject({
      reconcile_failure_count: 2,
      reconcile_stopped_at: null,
    });
  });

  it("a call_ended webhook after reconciliation closed the call is Retell's own delivery: stored, counted once, skipped as nothing new, no regression", async () => {
    const { callId, startMs } = await startedOnly(t.db, 10);
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    await pass();
    const closed = await findCallSession(t.db, callId);
    const p = await startPipeline(t.db);
    try {
      const late = await p.deliver(body('call_ended', { callId, startMs }));
      // Not a redelivery of callsync's own row: Retell sent it once, and it is kept as sent.
      expect(late.body.duplicate).toBe(false);
      const [row] = await p.settled([late.body.id]);
      expect(row).toMatchObject({
        event_type: 'call_ended',
        source: 'webhook',
        status: 'skipped',
        error: NOTHING_NEW,
        delivery_count: 1,
        attempts: 1,
      });
      expect(row!.raw_body).not.toBeNull();
      const lateStart = await p.deliver(body('call_started', { callId, startMs }));
      expect(lateStart.body.duplicate).toBe(true);
    } finally {
      await p.close();
    }
    // Reconciliation's own row is no delivery of Retell's.
    expect(
      (await findWebhookEvents(t.db, callId)).map((e) => [e.event_type, e.source, e.status, e.delivery_count]),
    ).toEqual([
      ['call_started', 'webhook', 'processed', 2],
      ['call_ended', 'reconcile', 'processed', 0],
      ['call_ended', 'webhook', 'skipped', 1],
    ]);
    expect(await findCallSession(t.db, callId)).toEqual(closed);
  });

  it('fetches the analysis of finished calls that still have none after the analysis window', async () => {
    const callId = newCallId('noanalysis');
    const startMs = Date.now() - 50 * MIN;
    const p = await startPipeline(t.db);
    try {
      const res = await p.deliver(body('call_ended', { callId, startMs }));
      await p.settled([res.body.id]);
    } finally {
      await p.close();
    }
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    const first = await pass();
    expect(first.summary).toMatchObject({ found: 1, analyzed: 0, ongoing: 1 });
    expect((await findCallSession(t.db, callId))?.reconcile_analysis_checks).toBe(1);
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_analyzed'));
    const second = await pass();
    expect(second.summary).toMatchObject({ found: 1, analyzed: 1 });
    expect((await findCallSession(t.db, callId))?.analysis).toMatchObject({ call_successful: true });
    expect((await pass()).summary.found).toBe(0);
  });

  it('walks many stale sessions in batches', async () => {
    const startMs = Date.now() - 20 * MIN;
    await sql`insert into retell_call_sessions (call_id, call_status, started_at, lifecycle_rank)
              select 'bulk_' || g, 'in_progress', ${new Date(startMs)}::timestamptz + (g % 7) * interval '1 second', 1 from generate_series(1, 230) g`.execute(
      t.db,
    );
    for (let g = 1; g <= 230; g += 2)
      f.fake.setCall({
        call_id: `bulk_${g}`,
        call_status: 'ended',
        end_timestamp: startMs + 60_000,
        duration_ms: 60_000,
      });
    const { summary, reports } = await pass({ batchSize: 50 });
    expect(summary).toMatchObject({ found: 230, ended: 115, not_found: 115 });
    expect(new Set(reports.map((r) => r.callId)).size).toBe(230);
    const open = await t.db
      .selectFrom('retell_call_sessions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('call_status', '=', 'in_progress')
      .executeTakeFirstOrThrow();
    expect(Number(open.n)).toBe(115);
  });

  it('a dry run asks Retell but writes nothing', async () => {
    const { callId, startMs } = await startedOnly(t.db, 10);
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    const before = await findCallSession(t.db, callId);
    const { summary } = await pass({ dryRun: true });
    expect(summary).toMatchObject({ found: 1, ended: 1, runId: null });
    expect(await findCallSession(t.db, callId)).toEqual(before);
    expect(await findWebhookEvents(t.db, callId)).toHaveLength(1);
    expect(await t.db.selectFrom('reconcile_runs').selectAll().execute()).toHaveLength(0);
  });

  it('with call ids, checks exactly those calls whatever their age', async () => {
    const young = await startedOnly(t.db, 1, 'young');
    await startedOnly(t.db, 30, 'old');
    f.fake.setCall(sampleCall({ callId: young.callId, startMs: young.startMs }, 'call_ended'));
    const { summary, reports } = await pass({ callIds: [young.callId] });
    expect(summary).toMatchObject({ found: 1, ended: 1 });
    expect(reports.map((r) => r.callId)).toEqual([young.callId]);
    expect((await findCallSession(t.db, young.callId))?.call_status).toBe('ended');
  });

  it('never runs two passes at once: a second pass waits for the first', async () => {
    const { callId, startMs } = await startedOnly(t.db, 10);
    f.fake.setCall({ call_id: callId, call_status: 'ongoing', start_timestamp: startMs });
    f.fake.behave(callId, { delayMs: 300 });
    await Promise.all([pass(), pass(), pass()]);
    const runs = await t.db
      .selectFrom('reconcile_runs')
      .select(['started_at', 'finished_at'])
      .orderBy('started_at')
      .execute();
    expect(runs).toHaveLength(3);
    for (let i = 1; i < runs.length; i++)
      expect(runs[i]!.started_at.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.finished_at!.getTime());
  });
});

describe('reconciliation of chats', () => {
  /** A chat that got only chat_started, `ageMin` minutes ago, through the pipeline. */
  async function chatStartedOnly(ageMin: number): Promise<{ chatId: string; startMs: number }> {
    const chatId = newCallId('chat');
    const startMs = Date.now() - ageMin * MIN;
    const p = await startPipeline(t.db);
    try {
      const res = await p.deliver(sampleChatBody({ chatId, startMs }, 'chat_started'));
      await p.settled([res.body.id]);
    } finally {
      await p.close();
    }
    return { chatId, startMs };
  }

  it('closes a stale chat through get-chat, leaves an ongoing one, and stops asking about an unknown one', async () => {
    const ended = await chatStartedOnly(20);
    const ongoing = await chatStartedOnly(20);
    const unknown = await chatStartedOnly(20);
    const fresh = await chatStartedOnly(1);
    f.fake.setChat(sampleChat({ chatId: ended.chatId, startMs: ended.startMs }, 'chat_analyzed'));
    f.fake.setChat(sampleChat({ chatId: ongoing.chatId, startMs: ongoing.startMs }, 'chat_started'));

    const { summary, reports } = await pass();
    expect(summary).toMatchObject({ found: 3, ended: 1, ongoing: 1, not_found: 1, failed: 0 });
    expect(reports.every((r) => r.subject === 'chat')).toBe(true);
    expect(await findChatSession(t.db, ended.chatId)).toMatchObject({
      chat_status: 'ended',
      ended_at: new Date(ended.startMs + 240_000),
      chat_successful: true,
      reconcile_not_found_count: 0,
    });
    expect((await findWebhookEvents(t.db, ended.chatId, { chat: true })).map((e) => [e.event_type, e.source])).toEqual([
      ['chat_started', 'webhook'],
      ['chat_ended', 'reconcile'],
      ['chat_analyzed', 'reconcile'],
    ]);
    expect(await findChatSession(t.db, ongoing.chatId)).toMatchObject({ chat_status: 'ongoing' });
    expect(await findChatSession(t.db, unknown.chatId)).toMatchObject({ reconcile_not_found_count: 1 });
    expect(f.fake.requests.filter((r) => r.chatId === fresh.chatId)).toEqual([]);

    // After maxTries not-found answers the unknown chat is no longer polled.
    await pass();
    await pass();
    expect((await findChatSession(t.db, unknown.chatId))!.reconcile_stopped_at).toBeInstanceOf(Date);
    const asked = f.fake.requests.filter((r) => r.chatId === unknown.chatId).length;
    await pass();
    expect(f.fake.requests.filter((r) => r.chatId === unknown.chatId)).toHaveLength(asked);
  });
  it('fetches the analysis of an ended chat whose chat_analyzed never came, and gives up after maxTries without one', async () => {
    /** A chat that got chat_started and chat_ended (ended `ageMin` minutes ago), never chat_analyzed. */
    const endedOnly = async (ageMin: number) => {
      const chatId = newCallId('chat');
      const startMs = Date.now() - ageMin * MIN - 240_000;
      const p = await startPipeline(t.db);
      try {
        const ids: string[] = [];
        for (const e of ['chat_started', 'chat_ended'] as const)
          ids.push((await p.deliver(sampleChatBody({ chatId, startMs }, e))).body.id);
        await p.settled(ids);
      } finally {
        await p.close();
      }
      return { chatId, startMs };
    };
    const lost = await endedOnly(40);
    const never = await endedOnly(40);
    const recent = await endedOnly(5);
    f.fake.setChat(sampleChat({ chatId: lost.chatId, startMs: lost.startMs }, 'chat_analyzed'));
    f.fake.setChat(sampleChat({ chatId: never.chatId, startMs: never.startMs }, 'chat_ended'));
    f.fake.setChat(sampleChat({ chatId: recent.chatId, startMs: recent.startMs }, 'chat_analyzed'));

    const { summary } = await pass();
    expect(summary).toMatchObject({ analyzed: 1, ongoing: 1, failed: 0 });
    expect(await findChatSession(t.db, lost.chatId)).toMatchObject({ chat_status: 'ended', chat_successful: true });
    expect((await findWebhookEvents(t.db, lost.chatId, { chat: true })).map((e) => [e.event_type, e.source])).toEqual([
      ['chat_started', 'webhook'],
      ['chat_ended', 'webhook'],
      ['chat_analyzed', 'reconcile'],
    ]);
    // Ended 5 minutes ago: within RECONCILE_ANALYSIS_AFTER_MINUTES, not asked about yet.
    expect(f.fake.requests.filter((r) => r.chatId === recent.chatId)).toEqual([]);
    // Retell has no analysis for the other: counted, and after maxTries checks no longer asked about.
    await pass();
    await pass();
    expect(await findChatSession(t.db, never.chatId)).toMatchObject({
      reconcile_analysis_checks: 3,
      reconcile_stopped_at: expect.any(Date),
    });
    const asked = f.fake.requests.filter((r) => r.chatId === never.chatId).length;
    await pass();
    expect(f.fake.requests.filter((r) => r.chatId === never.chatId)).toHaveLength(asked);
  });
});
