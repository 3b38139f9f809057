import { sql } from 'kysely';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import { defaultHandlers, runReconcilePass } from '@callsync/domain';
import { sampleCall, sampleChat } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startPipeline } from './support/pipeline';
import { retellCliEnvironment } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { assertBuilt, CLI, run } from './support/processes';

/** Calls and chats that only exist at (fake) Retell: found by reconciliation and by make backfill. */
const t = useTestDatabase();
let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  await sql`truncate discovery_watermarks`.execute(t.db);
  f = await startFakeRetell({ maxRetries: 1, backoffMs: 10 });
});
afterEach(() => f.fake.stop());

const MIN = 60_000;

function pass() {
  return runReconcilePass(
    { db: t.db, retell: f.client, handlers: defaultHandlers },
    { trigger: 'scheduled', runner: 'test', staleAfterMinutes: 5, analysisAfterMinutes: 30, maxTries: 3 },
  );
}

function backfill(...args: string[]) {
  return run(CLI, retellCliEnvironment(t.url, f.baseUrl), ['backfill', ...args]);
}

describe('discovery', () => {
  it('a call and a chat that never reached the webhook appear after one pass, exactly once across two passes and a concurrent make backfill', async () => {
    const callId = newCallId('lost');
    const chatId = newCallId('lostchat');
    const ongoingId = newCallId('live');
    f.fake.setCall(sampleCall({ callId, startMs: Date.now() - 20 * MIN }, 'call_analyzed'));
    f.fake.setCall(sampleCall({ callId: ongoingId, startMs: Date.now() - 2 * MIN }, 'call_started'));
    f.fake.setChat(sampleChat({ chatId, startMs: Date.now() - 30 * MIN }, 'chat_ended'));

    const first = await pass();
    expect(first).toMatchObject({ discovered: 3, failed: 0 });
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'ended',
      call_successful: true,
      disconnection_reason: 'user_hangup',
    });
    expect(await findCallSession(t.db, ongoingId)).toMatchObject({ call_status: 'in_progress' });
    expect(await findChatSession(t.db, chatId)).toMatchObject({ chat_status: 'ended' });
    expect((await findWebhookEvents(t.db, callId)).map((e) => [e.event_type, e.source, e.status])).toEqual([
      ['call_ended', 'reconcile', 'processed'],
      ['call_analyzed', 'reconcile', 'processed'],
    ]);

    // Again, and a make backfill at the same time: nothing new, nothing counted twice.
    const concurrent = backfill('--since', '7d');
    const second = await pass();
    expect(await concurrent.exited).toBe(0);
    expect(concurrent.output()).toMatch(/listed 3, already known 3, imported 0, failed 0/);
    expect(second.discovered).toBe(0);
    const rows = await t.db
      .selectFrom('webhook_events')
      .select(['event_type', 'delivery_count'])
      .where((eb) => eb.or([eb('call_id', 'in', [callId, ongoingId]), eb('chat_id', '=', chatId)]))
      .orderBy('id')
      .execute();
    // Read from Retell's API, not delivered by Retell: no delivery counted, however often it is read.
    expect(rows).toEqual([
      { event_type: 'call_ended', delivery_count: 0 },
      { event_type: 'call_analyzed', delivery_count: 0 },
      { event_type: 'call_started', delivery_count: 0 },
      { event_type: 'chat_ended', delivery_count: 0 },
    ]);
  });

  it("a discovered call gets its transcript from get-call; Retell's late webhooks are their own deliveries, applied when they carry more", async () => {
    const callId = newCallId('listed');
    const startMs = Date.now() - 20 * MIN;
    const whole = sampleCall({ callId, startMs }, 'call_ended');
    f.fake.setCall(whole);
    expect(await pass()).toMatchObject({ discovered: 1, failed: 0 });
    // The listing had no transcript (v3 list items never do); get-call gave it.
    expect(f.fake.getCallRequests(callId).map((r) => r.path)).toEqual([`/v2/get-call/${callId}`]);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'ended',
      transcript: whole.transcript,
      transcript_final: true,
    });

    const p = await startPipeline(t.db);
    try {
      // call_ended as Retell sends it, the same as get-call said: stored, counted once, nothing new.
      const ended = await p.deliver(body('call_ended', { callId, startMs }));
      expect(ended.body.duplicate).toBe(false);
      // call_analyzed was never applied: it carries the analysis, so it is applied.
      const analyzed = await p.deliver(body('call_analyzed', { callId, startMs }));
      const [endedRow, analyzedRow] = await p.settled([ended.body.id, analyzed.body.id]);
      expect(endedRow).toMatchObject({ source: 'webhook', status: 'skipped', delivery_count: 1 });
      expect(analyzedRow).toMatchObject({ source: 'webhook', status: 'processed', delivery_count: 1 });
    } finally {
      await p.close();
    }
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_successful: true, transcript: whole.transcript });
  });

  it('a late webhook that carries more than what discovery applied is applied', async () => {
    const callId = newCallId('partial');
    const startMs = Date.now() - 20 * MIN;
    // get-call no longer finds it (deleted at Retell, say): discovery keeps the listing, without transcript.
    f.fake.setCall(sampleCall({ callId, startMs }, 'call_ended'));
    f.fake.behave(callId, { status: 422 });
    expect(await pass()).toMatchObject({ discovered: 1 });
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'ended', transcript: null });
    const p = await startPipeline(t.db);
    try {
      const ended = await p.deliver(body('call_ended', { callId, startMs }));
      const [row] = await p.settled([ended.body.id]);
      expect(row).toMatchObject({ source: 'webhook', status: 'processed', delivery_count: 1 });
    } finally {
      await p.close();
    }
    expect(await findCallSession(t.db, callId)).toMatchObject({
      transcript: sampleCall({ callId, startMs }, 'call_ended').transcript,
    });
  });

  it('lists only since its watermark; make backfill imports older history, and can run again', async () => {
    await pass(); // sets the watermark
    const old = newCallId('old');
    f.fake.setCall(sampleCall({ callId: old, startMs: Date.now() - 3 * 24 * 60 * MIN }, 'call_ended'));
    expect((await pass()).discovered).toBe(0);
    expect(await findCallSession(t.db, old)).toBeUndefined();

    const dry = backfill('--since', '7d', '--dry-run');
    expect(await dry.exited).toBe(0);
    expect(dry.output()).toMatch(/listed 1, already known 0, would import 1, failed 0/);
    expect(await findCallSession(t.db, old)).toBeUndefined();

    const real = backfill('--since', '7d');
    expect(await real.exited).toBe(0);
    expect(real.output()).toMatch(/listed 1, already known 0, imported 1, failed 0/);
    expect(await findCallSession(t.db, old)).toMatchObject({ call_status: 'ended' });
    const again = backfill('--since', '7d');
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/imported 0/);
  });

  it('a listing that fails keeps the watermark, so the next pass lists the window again', async () => {
    const lost = newCallId('lost');
    f.fake.setCall(sampleCall({ callId: lost, startMs: Date.now() - 10 * MIN }, 'call_ended'));
    f.fake.behave('list-calls', { status: 500 });
    const failed = await pass();
    expect(failed.failed).toBeGreaterThan(0);
    expect(await findCallSession(t.db, lost)).toBeUndefined();
    f.fake.behave('list-calls', { status: 500, times: 0 });
    expect((await pass()).discovered).toBe(1);
    expect(await findCallSession(t.db, lost)).toMatchObject({ call_status: 'ended' });
    const bad = backfill();
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--since is required');
  });
});
