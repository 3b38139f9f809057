import { findCallSession } from '@callsync/db/sessions';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import type { CallWebhookBody, Documented, TranscriptUpdatedBody } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId, START_MS } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  await truncateAll(t.db);
  const company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(t.db, 'agent_known', company.id);
  p = await startPipeline(t.db);
});
afterEach(() => p.close());

async function send(...bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const b of bodies) {
    const res = await p.deliver(b);
    expect(res.status).toBe(200);
    ids.push(res.body.id);
  }
  await p.settled(ids);
  return ids;
}

describe('worker: lifecycle events', () => {
  it('call_started -> processed, session in_progress with the caller and the tenant', async () => {
    const callId = newCallId();
    const [id] = await send(body('call_started', { callId, agentId: 'agent_known' }));
    const row = await t.db.selectFrom('webhook_events').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'processed', attempts: 1, error: null });
    expect(row.processed_at).toBeInstanceOf(Date);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'in_progress',
      agent_id: 'agent_known',
      agent_version: 42,
      company_id: '1',
      call_type: 'phone_call',
      direction: 'inbound',
      from_number: '+491604366218',
      to_number: '+493033081738',
      caller_anonymous: false,
      started_at: new Date(START_MS),
      ended_at: null,
      lifecycle_rank: 1,
    });
  });

  it('call_ended -> session ended with end time, duration, reason, transcript, cost', async () => {
    const callId = newCallId();
    await send(body('call_started', { callId }), body('call_ended', { callId, durationMs: 61_000 }));
    const s = await findCallSession(t.db, callId);
    expect(s).toMatchObject({
      call_status: 'ended',
      started_at: new Date(START_MS),
      ended_at: new Date(START_MS + 61_000),
      duration_ms: '61000',
      disconnection_reason: 'user_hangup',
      recording_url: `https://dxc03zgurdly9.cloudfront.net/${callId}/recording.wav`,
      cost_cents: '12.5',
      analysis: null,
      lifecycle_rank: 2,
    });
    expect(s?.transcript).toMatch(/Termin buchen/);
  });

  it('call_analyzed -> analysis added', async () => {
    const callId = newCallId();
    await send(body('call_started', { callId }), body('call_ended', { callId }), body('call_analyzed', { callId }));
    const s = await findCallSession(t.db, callId);
    expect(s).toMatchObject({ call_status: 'ended', lifecycle_rank: 3 });
    expect(s?.analysis).toMatchObject({ call_successful: true, call_summary: expect.stringMatching(/appointment/) });
    expect(s?.analyzed_at).toBeInstanceOf(Date);
  });

  it('call_ended without call_started (a dial that failed) gives a finished session', async () => {
    const callId = newCallId();
    await send(body('call_ended', { callId, disconnectionReason: 'dial_failed' }));
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'not_connected',
      disconnection_reason: 'dial_failed',
      duration_ms: '0',
    });
  });

  it("the replaced system's bare call_ended (no call_started, few fields) gives an ended session", async () => {
    const [id] = await send(
      JSON.stringify({
        event: 'call_ended',
        call: {
          call_id: 'test_fix_verification_002_unique',
          call_status: 'ended',
          end_timestamp: 1761300060000,
          duration_ms: 61000,
          disconnection_reason: 'user_hangup',
        },
      } satisfies Documented<CallWebhookBody>),
    );
    expect((await p.settled([id!]))[0]?.status).toBe('processed');
    expect(await findCallSession(t.db, 'test_fix_verification_002_unique')).toMatchObject({
      call_status: 'ended',
      ended_at: new Date(1761300060000),
      started_at: new Date(1761300060000 - 61000),
      duration_ms: '61000',
    });
  });

  it('a withheld caller ID ("anonymous") is stored and flagged, not an error', async () => {
    const callId = newCallId();
    const ids = await send(
      body('call_started', { callId, fromNumber: 'anonymous' }),
      body('call_ended', { callId, fromNumber: 'anonymous' }),
    );
    expect((await p.settled(ids)).map((r) => r.status)).toEqual(['processed', 'processed']);
    expect(await findCallSession(t.db, callId)).toMatchObject({
      from_number: 'anonymous',
      caller_withheld: true,
      caller_anonymous: true,
      call_status: 'ended',
    });
  });

  it('a web call has no numbers and is not a withheld caller', async () => {
    const callId = newCallId();
    await send(body('call_started', { callId, callType: 'web_call' }));
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_type: 'web_call',
      from_number: null,
      to_number: null,
      caller_withheld: false,
      caller_anonymous: false,
      direction: null,
    });
  });

  it('a phone call with a caller ID is neither withheld nor anonymous', async () => {
    const callId = newCallId();
    await send(body('call_started', { callId, fromNumber: '+491604366218' }));
    expect(await findCallSession(t.db, callId)).toMatchObject({
      from_number: '+491604366218',
      caller_withheld: false,
      caller_anonymous: false,
    });
  });

  it('an unknown agent gives a null company, not an error', async () => {
    const callId = newCallId();
    const [id] = await send(body('call_started', { callId, agentId: 'agent_nobody_knows' }));
    expect((await p.settled([id!]))[0]?.status).toBe('processed');
    expect((await findCallSession(t.db, callId))?.company_id).toBeNull();
  });

  it('transcript_updated is applied; a longer snapshot replaces the stored one and the live transcript', async () => {
    const callId = newCallId();
    const snap = (n: number) =>
      JSON.stringify({
        event: 'transcript_updated',
        call: { call_id: callId, transcript: 'Agent: Hallo\n'.repeat(n) },
      } satisfies Documented<TranscriptUpdatedBody>);
    const [first] = await send(snap(1));
    await p.settled([first!]);
    expect((await findCallSession(t.db, callId))?.transcript).toBe('Agent: Hallo\n');
    const [second] = await send(snap(2));
    expect(second).toBe(first);
    const [row] = await p.settled([first!]);
    expect(row).toMatchObject({ status: 'processed', delivery_count: 2, error: null, attempts: 2 });
    expect((row!.payload as { call: { transcript: string } }).call.transcript).toBe('Agent: Hallo\n'.repeat(2));
    expect(await findCallSession(t.db, callId)).toMatchObject({
      call_status: 'in_progress',
      transcript: 'Agent: Hallo\n'.repeat(2),
    });
  });

  it('event types callsync does not know are stored and skipped', async () => {
    const callId = newCallId();
    const [id] = await send(
      JSON.stringify({ event: 'call_paused', timestamp: 1761300030000, call: { call_id: callId } }),
    );
    expect((await p.settled([id!]))[0]).toMatchObject({
      status: 'skipped',
      dedupe_key: expect.stringMatching(new RegExp(`^call_paused:${callId}:[0-9a-f]{32}$`)),
    });
  });
});
