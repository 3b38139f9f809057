import { z } from 'zod';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { addCompany, mapAgent, setBlockedNumbers, setNumberRouting } from '@callsync/db/tenants';
import { findFunctionCallsOf } from '@callsync/db/live';
import { BUILTIN_FUNCTIONS, defineFunction, functionRegistry, invalidateTenantCache } from '@callsync/domain';
import { waitUntil } from '@callsync/runtime';
import { truncateAll, useTestDatabase } from './support/database';
import { signedPost } from './support/live';
import { startPipeline, type Pipeline } from './support/pipeline';
import callEnded from './fixtures/retell/webhook-call-ended';
import callEndedCurl from './fixtures/retell/webhook-call-ended-curl';
import callAnalyzedEventType from './fixtures/retell/webhook-call-analyzed-event-type';
import transferStarted from './fixtures/retell/webhook-transfer-started';
import inboundCall from './fixtures/retell/inbound-call-request';
import inboundSms from './fixtures/retell/inbound-sms-request';
import inboundOverride from './fixtures/retell/inbound-call-response-override';
import inboundReject from './fixtures/retell/inbound-call-response-reject';
import functionRequest from './fixtures/retell/function-request-analyze-transcript';

/*
 * Retell's own documented samples (test/fixtures/retell/, each citing its page and type-checked against
 * retell-sdk's types), sent signed through the running ingress and worker: what becomes of each.
 */
const t = useTestDatabase();
const analyzeTranscript = defineFunction({
  name: 'analyze_transcript',
  description: "test: the docs' sample function",
  args: z.object({ analysis_type: z.string() }),
  async handle({ call }, { analysis_type }) {
    return `The ${analysis_type} of ${call?.call_id ?? 'an unknown call'} is positive.`;
  },
});
let p: Pipeline;
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  p = await startPipeline(t.db, {
    ingress: { functions: functionRegistry([...BUILTIN_FUNCTIONS, analyzeTranscript]) },
  });
});
afterEach(() => p.close());

describe("Retell's documented samples through the ingress", () => {
  it('webhook-overview call_ended: stored, applied (its "registered" status ends the call), counted once; the curl sample is its redelivery', async () => {
    const res = await p.deliver(JSON.stringify(callEnded));
    expect([res.status, res.body.duplicate]).toEqual([200, false]);
    const [row] = await p.settled([res.body.id]);
    expect(row).toMatchObject({ event_type: 'call_ended', status: 'processed', delivery_count: 1, source: 'webhook' });
    expect(await findCallSession(t.db, callEnded.call.call_id)).toMatchObject({
      call_status: 'ended',
      direction: 'inbound',
      from_number: '+12137771234',
      to_number: '+12137771235',
      disconnection_reason: 'user_hangup',
      duration_ms: String(callEnded.call.end_timestamp - callEnded.call.start_timestamp),
      transcript: '...',
      agent_version: null,
    });
    // The legacy field Retell's sample still carries is kept, as every field is.
    expect((row!.payload as typeof callEnded).call.opt_out_sensitive_data_storage).toBe(false);

    const curl = await p.deliver(JSON.stringify(callEndedCurl));
    expect([curl.status, curl.body]).toEqual([200, expect.objectContaining({ id: res.body.id, duplicate: true })]);
    expect((await findWebhookEvents(t.db, callEnded.call.call_id)).map((r) => r.delivery_count)).toEqual([2]);
  });

  it('post-call-analysis\'s "event_type" sample is refused with 400 naming the missing event, and nothing is stored', async () => {
    const res = await p.deliver(JSON.stringify(callAnalyzedEventType));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/\bevent is required/);
    expect(await t.db.selectFrom('webhook_events').select('id').execute()).toEqual([]);
  });

  it('the transfer sample keeps its destination number, extension and camelCase option, on the event and the session', async () => {
    const res = await p.deliver(JSON.stringify(transferStarted));
    await p.settled([res.body.id]);
    const callId = transferStarted.call.call_id;
    const events = await t.db
      .selectFrom('retell_call_transfer_events')
      .selectAll()
      .where('call_id', '=', callId)
      .execute();
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'transfer_started',
        destination: '+12137771235',
        destination_extension: '1234',
        transfer_destination: transferStarted.transfer_destination,
        transfer_option: transferStarted.transfer_option,
      }),
    ]);
    expect((await findCallSession(t.db, callId))!.transfers).toEqual([
      expect.objectContaining({
        destination: '+12137771235',
        extension: '1234',
        option: transferStarted.transfer_option,
        outcome: 'started',
      }),
    ]);
    // The identical redelivery is only counted.
    const again = await p.deliver(JSON.stringify(transferStarted));
    expect(again.body).toMatchObject({ id: res.body.id, duplicate: true });
  });

  it("the inbound call request: routed by its agent's company, in the documented answer shape; once blocked, the documented rejection", async () => {
    const company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
    await mapAgent(t.db, inboundCall.call_inbound.agent_id, company.id);
    await t.db
      .insertInto('retell_phone_numbers')
      .values({ phone_number: inboundCall.call_inbound.to_number, company_id: null })
      .execute();
    await setNumberRouting(t.db, inboundCall.call_inbound.to_number, {
      variables: {},
      schedules: [
        {
          weekdays: [1, 2, 3, 4, 5, 6, 7],
          starts_at: '00:00:00',
          ends_at: '23:59:59',
          agent_id: 'agent_round_the_clock',
          agent_version: 2,
        },
      ],
    });
    const routed = await signedPost(p.app, '/api/retell/inbound', inboundCall);
    expect(routed.status).toBe(200);
    expect(Object.keys(routed.body)).toEqual(['call_inbound']);
    // Only fields the documented answer has, with the documented types.
    for (const key of Object.keys(routed.body.call_inbound))
      expect(Object.keys(inboundOverride.call_inbound)).toContain(key);
    expect(routed.body.call_inbound).toMatchObject({
      override_agent_id: 'agent_round_the_clock',
      override_agent_version: 2,
      dynamic_variables: expect.objectContaining({ company_name: 'Praxis Dr. Weber' }),
    });
    for (const value of Object.values(routed.body.call_inbound.dynamic_variables)) expect(typeof value).toBe('string');

    await setBlockedNumbers(t.db, company.id, [inboundCall.call_inbound.from_number]);
    const rejected = await signedPost(p.app, '/api/retell/inbound', inboundCall);
    expect([rejected.status, rejected.body]).toEqual([200, inboundReject]);
    const sms = await signedPost(p.app, '/api/retell/inbound', inboundSms);
    expect([sms.status, sms.body]).toEqual([200, { chat_inbound: inboundReject.call_inbound }]);
  });

  it("the custom function sample runs the function named in its URL with the sample's args and live call", async () => {
    const res = await signedPost(p.app, '/api/retell/functions/analyze_transcript', functionRequest);
    expect([res.status, res.text]).toEqual([200, `The sentiment of ${functionRequest.call.call_id} is positive.`]);
    // The result is recorded just after the answer was sent.
    const recorded = await waitUntil(
      async () => {
        const rows = await findFunctionCallsOf(t.db, functionRequest.call.call_id);
        return rows.every((r) => r.status !== 'running') ? rows : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25 },
    );
    expect(recorded).toEqual([
      expect.objectContaining({ name: 'analyze_transcript', args: { analysis_type: 'sentiment' }, status: 'ok' }),
    ]);
    // Signed for analyze_transcript: not accepted at another function's URL.
    const elsewhere = await signedPost(p.app, '/api/retell/functions/get_call_context', functionRequest);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error).toMatch(/"analyze_transcript".*"get_call_context"/);
  });
});
