import { sql } from 'kysely';
import { backfillSessionFields } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import { pruneEventPayloads } from '@callsync/db/privacy';
import { CHAT_EVENTS, TRANSFER_EVENTS, WEBHOOK_EVENTS, type ChatEvent } from '@callsync/domain';
import {
  sampleChat,
  sampleChatBody,
  sampleTranscriptUpdateBody,
  sampleTransferBody,
  type ChatTranscriptUpdatedBody,
  type RetellPhoneCall,
  type RetellTranscriptEntry,
  type TranscriptUpdatedBody,
} from '@callsync/retell';
import { useTestDatabase } from './support/database';
import { body, newCallId, permutations, START_MS } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline(t.db);
});
afterEach(() => p.close());

/** Deliver bodies one after the other; every answer must be 200. Returns the row ids. */
async function deliverAll(bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const b of bodies) {
    const res = await p.deliver(b);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
    ids.push(res.body.id);
  }
  return ids;
}

const chat = (chatId: string, event: ChatEvent, summary?: string) =>
  sampleChatBody({ chatId, startMs: START_MS, summary }, event);

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('every signed delivery is kept', () => {
  it('answers 2xx for every event kind Retell documents, and each ends applied', async () => {
    const callId = newCallId();
    const chatId = newCallId('chat');
    const bodies = WEBHOOK_EVENTS.map((event) => {
      if (CHAT_EVENTS.includes(event as ChatEvent)) return chat(chatId, event as ChatEvent);
      if ((TRANSFER_EVENTS as readonly string[]).includes(event))
        return sampleTransferBody({ callId, startMs: START_MS }, event as (typeof TRANSFER_EVENTS)[number], {
          destination: { number: '+4930123456' },
        });
      if (event === 'transcript_updated') return sampleTranscriptUpdateBody({ callId, startMs: START_MS }, 3);
      return body(event as 'call_started', { callId });
    });
    expect(bodies).toHaveLength(11);
    const rows = await p.settled(await deliverAll(bodies));
    expect(rows.map((r) => [r.event_type, r.status, r.error])).toEqual(
      WEBHOOK_EVENTS.map((e) => [e, 'processed', null]),
    );
    expect(rows.filter((r) => r.chat_id === chatId).map((r) => r.event_type)).toEqual([...CHAT_EVENTS]);
    expect(await findChatSession(t.db, chatId)).toMatchObject({ chat_status: 'ended', lifecycle_rank: 3 });
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'ended', lifecycle_rank: 3 });
  });

  it('keeps and skips what it does not know: unknown events with a call, a chat, or neither', async () => {
    const callId = newCallId();
    const bodies = [
      JSON.stringify({ event: 'call_paused', call: { call_id: callId } }),
      JSON.stringify({ event: 'chat_typing', chat: { chat_id: 'chat_x1' } }),
      // Retell's inbound webhook body, sent to the wrong URL: no call object, no call id.
      JSON.stringify({ event: 'call_inbound', call_inbound: { from_number: '+491701234567', to_number: '+4930333' } }),
    ];
    const ids = await deliverAll(bodies);
    const rows = await p.settled(ids);
    expect(rows.map((r) => [r.event_type, r.call_id, r.chat_id, r.event_id, r.status])).toEqual([
      ['call_paused', callId, null, callId, 'skipped'],
      ['chat_typing', null, 'chat_x1', 'chat_x1', 'skipped'],
      ['call_inbound', null, null, null, 'skipped'],
    ]);
    // An identical retry of the subject-less one is counted on its row.
    const again = await p.deliver(bodies[2]!);
    expect(again.body).toMatchObject({ id: ids[2], duplicate: true });
  });

  it('accepts the deprecated `data` object in place of `call`', async () => {
    const callId = newCallId();
    const legacy = JSON.parse(body('call_ended', { callId })) as { call: unknown };
    const [id] = await deliverAll([JSON.stringify({ event: 'call_ended', data: legacy.call })]);
    expect((await p.settled([id!]))[0]).toMatchObject({ status: 'processed', call_id: callId });
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'ended' });
  });

  it.each([
    ['{"event": "call_ended", "call": {"call_id": 42}}', 'call.call_id'],
    ['{"event": "chat_ended", "chat": {"chat_id": ["x"]}}', 'chat.chat_id'],
    ['{"event": "chat_ended", "call": {"call_id": "c1"}}', 'chat.chat_id is required'],
    ['{"event": "call_started"}', 'call.call_id is required'],
    ['{"call": {"call_id": "c1"}}', 'event is required'],
    ['{"event": "call_ended", "call": "c1"}', 'call'],
  ])('refuses %s with 400 naming %s', async (bad, field) => {
    const res = await p.deliver(bad);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(field);
  });
});

describe('chat sessions', () => {
  it('all 6 orders of chat_started/ended/analyzed give the same chat row', async () => {
    const rows = [];
    for (const order of permutations<ChatEvent>(CHAT_EVENTS)) {
      const chatId = newCallId('chat');
      await p.settled(await deliverAll(order.map((e) => chat(chatId, e))));
      const row = (await findChatSession(t.db, chatId))!;
      // The times are when each delivery arrived; the rest is what every order must agree on.
      const { id: _i, chat_id: _c, created_at: _ca, updated_at: _u, last_event_at: _l, analyzed_at: _a, ...rest } = row;
      rows.push(rest);
    }
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r).toEqual(rows[0]);
    expect(rows[0]).toMatchObject({
      chat_status: 'ended',
      chat_type: 'sms_chat',
      agent_id: 'agent_c4a7d9e2b1f04e6a8c3d5b7e91',
      agent_version: 3,
      started_at: new Date(START_MS),
      ended_at: new Date(START_MS + 240_000),
      chat_successful: true,
      user_sentiment: 'Positive',
      chat_summary: 'The customer booked an appointment for tomorrow 15:00.',
      custom_analysis_data: { appointment_booked: true },
      cost_cents: '0.8',
      lifecycle_rank: 3,
    });
    expect(rows[0]!.transcript).toContain('Haben Sie morgen');
  });

  it('a chat that errored stays errored, whatever arrives after', async () => {
    const chatId = newCallId('chat');
    const ended = sampleChatBody({ chatId, startMs: START_MS, chatStatus: 'error' }, 'chat_ended');
    await p.settled(await deliverAll([ended, chat(chatId, 'chat_started')]));
    expect(await findChatSession(t.db, chatId)).toMatchObject({ chat_status: 'error' });
  });
});

describe('transfers', () => {
  it('two transfers of one call, each step redelivered, give two transfers in order, each with its number, extension and option as sent', async () => {
    const callId = newCallId();
    const o = { callId, startMs: START_MS };
    const first = {
      destination: { number: '+4930111111', extension: '1234' },
      option: {
        type: 'warm_transfer' as const,
        showTransfereeAsCaller: true,
        publicHandoffOption: { type: 'static_message' as const, message: 'Ich verbinde Sie.' },
        agentDetectionTimeoutMs: 15000,
      },
      turns: 4,
    };
    const second = { destination: { number: 'sip:praxis@pbx.example.com;transport=tls' }, turns: 9 };
    const bodies = [
      sampleTransferBody(o, 'transfer_started', first),
      sampleTransferBody(o, 'transfer_cancelled', first),
      sampleTransferBody(o, 'transfer_started', second),
      sampleTransferBody(o, 'transfer_bridged', second),
      sampleTransferBody(o, 'transfer_ended', { ...second, turns: 10 }),
    ];
    // Out of order, and every one delivered twice.
    const order = [3, 0, 4, 2, 1, 0, 3, 1, 4, 2];
    const ids = await deliverAll(order.map((i) => bodies[i]!));
    expect(new Set(ids).size).toBe(5);
    await p.settled([...new Set(ids)]);
    const session = (await findCallSession(t.db, callId))!;
    expect(session.transfers).toEqual([
      expect.objectContaining({
        destination: '+4930111111',
        extension: '1234',
        destination_sent: first.destination,
        outcome: 'cancelled',
        option: first.option,
        started_at: expect.any(String),
        cancelled_at: expect.any(String),
        bridged_at: null,
      }),
      expect.objectContaining({
        destination: 'sip:praxis@pbx.example.com;transport=tls',
        extension: null,
        outcome: 'bridged',
        bridged_at: expect.any(String),
        ended_at: expect.any(String),
      }),
    ]);
    const events = await t.db
      .selectFrom('retell_call_transfer_events')
      .selectAll()
      .where('call_id', '=', callId)
      .orderBy('turn_count')
      .orderBy('id')
      .execute();
    expect(events).toHaveLength(5);
    expect(
      events
        .filter((e) => e.event_type === 'transfer_started')
        .map((e) => [e.destination, e.destination_extension, e.transfer_destination]),
    ).toEqual([
      ['+4930111111', '1234', first.destination],
      ['sip:praxis@pbx.example.com;transport=tls', null, second.destination],
    ]);
    const rows = await findWebhookEvents(t.db, callId);
    expect(rows.map((r) => r.delivery_count)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('live transcript', () => {
  it('20 shuffled snapshots leave the longest, in the session and the stored event; call_ended overrides', async () => {
    const callId = newCallId();
    const o = { callId, startMs: START_MS };
    await p.settled(await deliverAll([body('call_started', { callId })]));
    const snapshots = Array.from({ length: 20 }, (_, i) => sampleTranscriptUpdateBody(o, i + 1));
    const longest = JSON.parse(snapshots[19]!) as { call: { transcript: string } };
    for (const s of shuffle(snapshots, 7)) {
      const res = await p.deliver(s);
      expect(res.status).toBe(200);
    }
    const [row] = await t.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('call_id', '=', callId)
      .where('event_type', '=', 'transcript_updated')
      .execute();
    expect(row!.delivery_count).toBe(20);
    await p.settled([row!.id]);
    const stored = (await findWebhookEvents(t.db, callId)).find((r) => r.event_type === 'transcript_updated')!;
    expect((stored.payload as typeof longest).call.transcript).toBe(longest.call.transcript);
    expect(stored.snapshot_size).toBe(longest.call.transcript.length);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'in_progress',
      transcript: longest.call.transcript,
      transcript_final: false,
    });

    // An older snapshot arriving late changes nothing.
    const late = await p.deliver(snapshots[3]!);
    expect(late.body).toMatchObject({ id: row!.id, duplicate: true });
    await p.settled([row!.id]);
    expect((await findCallSession(t.db, callId))!.transcript).toBe(longest.call.transcript);

    const ended = JSON.parse(body('call_ended', { callId })) as { call: { transcript: string } };
    await p.settled(await deliverAll([JSON.stringify(ended)]));
    expect(ended.call.transcript.length).toBeLessThan(longest.call.transcript.length);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'ended',
      transcript: ended.call.transcript,
      transcript_final: true,
    });
    // A longer snapshot after the end does not replace the final transcript.
    await p.settled([(await p.deliver(sampleTranscriptUpdateBody(o, 30))).body.id]);
    expect((await findCallSession(t.db, callId))!.transcript).toBe(ended.call.transcript);
  });

  it('snapshots carrying only transcript_with_tool_calls (no text) are measured on it: the later, longer one wins', async () => {
    const callId = newCallId();
    const o = { callId, startMs: START_MS };
    // The live call without the text form: its conversation only as entries, with a tool call.
    const snapshot = (turns: number, tool: boolean) => {
      const {
        transcript: _text,
        transcript_object: entries,
        ...call
      } = JSON.parse(sampleTranscriptUpdateBody(o, turns)).call as RetellPhoneCall;
      const list: RetellTranscriptEntry[] = [...(entries ?? [])];
      if (tool)
        list.push({ role: 'tool_call_invocation', tool_call_id: 'tc_1', name: 'check_availability', arguments: '{}' });
      return JSON.stringify({
        event: 'transcript_updated',
        call: { ...call, transcript_with_tool_calls: list },
      } satisfies TranscriptUpdatedBody);
    };
    const [first] = await deliverAll([snapshot(2, false)]);
    await p.settled([first!]);
    expect((await findCallSession(t.db, callId))!.transcript).toBe(
      'Agent: Guten Tag, wie kann ich helfen?\nUser: Ich möchte einen Termin buchen.',
    );
    const [second] = await deliverAll([snapshot(4, true)]);
    expect(second).toBe(first);
    await p.settled([first!]);
    const [row] = await findWebhookEvents(t.db, callId);
    expect(
      (row!.payload as { call: { transcript_with_tool_calls: unknown[] } }).call.transcript_with_tool_calls,
    ).toHaveLength(5);
    expect((await findCallSession(t.db, callId))!.transcript).toMatch(/User: Passt\.$/);
    // The shorter one again, late: only counted.
    expect((await p.deliver(snapshot(2, false))).body).toMatchObject({ id: first, duplicate: true });
  });

  it("a chat agent's transcript_updated (chat, no call) is accepted and applied to the chat, the longest kept", async () => {
    const chatId = newCallId('chat');
    const live = (text: string) =>
      JSON.stringify({
        event: 'transcript_updated',
        chat: { ...sampleChat({ chatId, startMs: START_MS }, 'chat_started'), transcript: text },
      } satisfies ChatTranscriptUpdatedBody);
    const short = 'User: Haben Sie morgen noch einen Termin frei?';
    const long = `${short}\nAgent: Ja, um 15 Uhr.`;
    await p.settled(await deliverAll([chat(chatId, 'chat_started'), live(long)]));
    const late = await p.deliver(live(short));
    expect(late.status).toBe(200);
    await p.settled([late.body.id]);
    expect(await findChatSession(t.db, chatId)).toMatchObject({ chat_status: 'ongoing', transcript: long });
    const rows = await findWebhookEvents(t.db, chatId, { chat: true });
    expect(rows.map((r) => [r.event_type, r.chat_id, r.status])).toEqual([
      ['chat_started', chatId, 'processed'],
      ['transcript_updated', chatId, 'processed'],
    ]);
    // The chat's end replaces the live transcript for good.
    await p.settled(await deliverAll([chat(chatId, 'chat_ended')]));
    expect((await findChatSession(t.db, chatId))!.transcript).toMatch(
      /^User: Haben Sie morgen noch einen Termin frei\?\nAgent: Ja, um 15 Uhr\. Soll ich/,
    );
  });
});

describe('re-run analysis', () => {
  it('a different call_analyzed replaces the analysis; its redelivery only counts', async () => {
    const callId = newCallId();
    const original = body('call_analyzed', { callId });
    const rerunCall = JSON.parse(original) as { call: { call_analysis: Record<string, unknown> } };
    rerunCall.call.call_analysis = {
      ...rerunCall.call.call_analysis,
      call_summary: 'Re-run: the caller booked Thursday 10:00 and asked for a reminder.',
      call_successful: false,
      custom_analysis_data: { reminder: 'sms' },
    };
    const rerun = JSON.stringify(rerunCall);
    const [first] = await deliverAll([body('call_ended', { callId }), original]).then((ids) => ids.slice(1));
    await p.settled([first!]);
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_successful: true });

    const second = await p.deliver(rerun);
    expect(second.body.duplicate).toBe(false);
    expect(second.body.id).not.toBe(first);
    await p.settled([second.body.id]);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_successful: false,
      call_summary: 'Re-run: the caller booked Thursday 10:00 and asked for a reminder.',
      custom_analysis_data: { reminder: 'sms' },
    });

    // Redeliveries: of the re-run (counted), and of the original arriving late (counted, not applied again).
    expect((await p.deliver(rerun)).body).toMatchObject({ id: second.body.id, duplicate: true });
    expect((await p.deliver(original)).body).toMatchObject({ id: first, duplicate: true });
    const rows = (await findWebhookEvents(t.db, callId)).filter((r) => r.event_type === 'call_analyzed');
    expect(rows.map((r) => [r.status, r.delivery_count])).toEqual([
      ['processed', 2],
      ['processed', 2],
    ]);
    expect((await findCallSession(t.db, callId))!.call_summary).toMatch(/^Re-run/);
  });

  it('the newest analysis wins even when the older row is applied last (a replay)', async () => {
    const callId = newCallId();
    const original = body('call_analyzed', { callId });
    const newer = JSON.parse(original) as { call: { call_analysis: Record<string, unknown> } };
    newer.call.call_analysis = { ...newer.call.call_analysis, user_sentiment: 'Negative' };
    const [a, b] = await deliverAll([original, JSON.stringify(newer)]);
    await p.settled([a!, b!]);
    await sql`update webhook_events set status = 'pending' where id = ${a}`.execute(t.db);
    await p.queue.add('event', { rowId: a! }, { jobId: `evt-${a}-replay` });
    await p.settled([a!]);
    expect((await findCallSession(t.db, callId))!.user_sentiment).toBe('Negative');
  });
});

describe('queryable fields', () => {
  it('are columns that survive a retention pass over the payloads', async () => {
    const callId = newCallId();
    const ids = await deliverAll([body('call_ended', { callId }), body('call_analyzed', { callId })]);
    await p.settled(ids);
    expect(await pruneEventPayloads(t.db, new Date(Date.now() + 60_000), 100)).toBeGreaterThanOrEqual(2);
    expect((await findWebhookEvents(t.db, callId)).map((r) => r.payload)).toEqual([{}, {}]);
    const s = (await findCallSession(t.db, callId))!;
    expect(s).toMatchObject({
      call_successful: true,
      user_sentiment: 'Positive',
      in_voicemail: false,
      call_summary: 'The caller booked an appointment for Thursday 10:00.',
      custom_analysis_data: {},
      telephony_identifier: { twilio_call_sid: expect.stringMatching(/^CA/) },
      retell_llm_dynamic_variables: { customer_name: 'Max Mustermann' },
      latency: { e2e: expect.objectContaining({ p50: 812 }) },
      llm_token_usage: expect.objectContaining({ num_requests: 3 }),
      fields_version: 1,
    });
    // Plain SQL over them, as people query.
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from retell_call_sessions
      where call_successful and telephony_identifier->>'twilio_call_sid' like 'CA%'
        and custom_analysis_data is not null and call_id = ${callId}`.execute(t.db);
    expect(rows[0]!.n).toBe('1');
  });

  it('sessions stored before the fields existed get them from their payloads (make backfill-fields)', async () => {
    const callId = newCallId();
    await p.settled(await deliverAll([body('call_started', { callId }), body('call_analyzed', { callId })]));
    // As a row written before migration 0007 looks.
    await sql`update retell_call_sessions set call_successful = null, user_sentiment = null, call_summary = null,
      telephony_identifier = null, latency = null, transcript_final = false, fields_version = null
      where call_id = ${callId}`.execute(t.db);
    expect(await backfillSessionFields(t.db, { batch: 1 })).toBe(1);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_successful: true,
      user_sentiment: 'Positive',
      call_summary: 'The caller booked an appointment for Thursday 10:00.',
      telephony_identifier: { twilio_call_sid: expect.stringMatching(/^CA/) },
      latency: { e2e: expect.objectContaining({ p50: 812 }) },
      transcript_final: true,
      fields_version: 1,
    });
    expect(await backfillSessionFields(t.db)).toBe(0);
  });
});
