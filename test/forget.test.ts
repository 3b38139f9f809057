import { sign } from 'retell-sdk';
import request from 'supertest';
import { z } from 'zod';
import { addCompany, findCallSession, findWebhookEvents, mapAgent, pauseDestination } from '@callsync/db';
import {
  BUILTIN_FUNCTIONS,
  createDestination,
  defineFunction,
  functionRegistry,
  invalidateTenantCache,
} from '@callsync/domain';
import { FakeRetell } from '@callsync/fake-retell';
import {
  sampleCall,
  sampleTransferBody,
  type FunctionRequestBody,
  type InboundCallRequest,
  type RetellCallObject,
} from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { dumpData, numberForms } from './support/dump';
import { newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { TEST_KEYS } from './support/keys';
import { startPipeline, type Pipeline } from './support/pipeline';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * make forget (GDPR Art. 17) against real services: afterwards a pg_dump of the database holds
 * nothing of the caller, Retell was asked to delete the calls, a late delivery does not bring the
 * data back, and a second run changes nothing. Another caller's data is untouched.
 */
const t = useTestDatabase();
const CALLER = '+491701234567';
const OTHER = '+491609876543';
const NAME = 'Erika Beispielfrau';
const SUMMARY = 'Frau Beispielfrau braucht ein Rezept für Metformin und einen Rückruf.';
const NOTE = 'Allergie gegen Penicillin';
let p: Pipeline;
let fake: FakeRetell;
let fakeUrl: string;
const bookAppointment = defineFunction({
  name: 'book_appointment',
  description: 'test: books',
  args: z.object({ patient: z.string(), note: z.string() }),
  async handle(_ctx, { patient }) {
    return `Booked for ${patient}.`;
  },
});

beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  fake = new FakeRetell({ apiKeys: [TEST_API_KEY] });
  fakeUrl = await fake.start();
  p = await startPipeline(t.db, {
    ingress: { functions: functionRegistry([...BUILTIN_FUNCTIONS, bookAppointment]) },
  });
  const company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(t.db, 'agent_weber', company.id);
  // A paused destination holds session bodies (numbers, summary) that were never sent.
  const { destination } = await createDestination(t.db, TEST_KEYS, {
    url: 'https://crm.example.com/hooks',
    events: ['call_analyzed'],
    payloadMode: 'session',
  });
  await pauseDestination(t.db, destination.id, 'test');
});
afterEach(async () => {
  await p.close();
  await fake.stop();
});

function call(callId: string, from: string, name: string, event: 'call_started' | 'call_analyzed'): RetellCallObject {
  const c = sampleCall({ callId, agentId: 'agent_weber', fromNumber: from, startMs: Date.now() - 3_600_000 }, event);
  c.retell_llm_dynamic_variables = { customer_name: name };
  if (c.call_analysis) c.call_analysis = { ...c.call_analysis, call_summary: `${name}: ${SUMMARY}` };
  return c;
}

async function signed(path: string, payload: unknown) {
  const text = JSON.stringify(payload);
  return request(p.app)
    .post(path)
    .set('content-type', 'application/json')
    .set('x-retell-signature', await sign(text, TEST_API_KEY))
    .send(text);
}

/** A whole call of `from`: inbound webhook, start, a function call, a transfer, the analysis. */
async function wholeCall(from: string, name: string, note = NOTE): Promise<string> {
  const callId = newCallId('call');
  await signed('/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: { from_number: from, to_number: '+493033081738', agent_id: 'agent_weber', call_id: callId },
  } satisfies InboundCallRequest);
  const ids = [
    (await p.deliver(JSON.stringify({ event: 'call_started', call: call(callId, from, name, 'call_started') }))).body
      .id,
  ];
  await signed('/api/retell/functions/book_appointment', {
    name: 'book_appointment',
    args: { patient: name, note },
    call: call(callId, from, name, 'call_started'),
  } satisfies FunctionRequestBody);
  const transfer = JSON.parse(
    sampleTransferBody({ callId, agentId: 'agent_weber', fromNumber: from }, 'transfer_started', {
      destination: { number: '+493012345678', extension: '7' },
    }),
  );
  transfer.call.retell_llm_dynamic_variables = { customer_name: name };
  ids.push((await p.deliver(JSON.stringify(transfer))).body.id);
  const analyzed = call(callId, from, name, 'call_analyzed');
  ids.push((await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }))).body.id);
  await p.settled(ids);
  fake.setCall(analyzed);
  return callId;
}

function forgetCli(...args: string[]) {
  return run(
    CLI,
    {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      RETELL_API_KEY: TEST_API_KEY,
      RETELL_API_BASE_URL: fakeUrl,
      NODE_ENV: 'production',
    },
    ['forget', ...args],
  );
}

describe('make forget', () => {
  it('erases one caller everywhere, here and at Retell: a pg_dump holds nothing of them, and nothing comes back', async () => {
    const erased = await wholeCall(CALLER, NAME);
    const kept = await wholeCall(OTHER, 'Otto Normalverbraucher', 'keine Allergien');
    const before = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE]) expect(before).toContain(s);

    const cli = forgetCli('--caller', CALLER);
    expect({ code: await cli.exited, output: cli.output() }).toMatchObject({ code: 0 });
    expect(cli.output()).toContain(`calls: ${erased}`);
    expect(cli.output()).toMatch(/retell_call_sessions +1/);
    expect(cli.output()).toContain('Retell (DELETE /v2/delete-call): deleted 1, already gone 0, failed 0');
    expect(fake.calls.has(erased)).toBe(false);
    expect(fake.calls.has(kept)).toBe(true);

    const after = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE]) expect(after).not.toContain(s);
    // The other caller is untouched.
    for (const s of [...numberForms(OTHER), 'Otto Normalverbraucher', 'keine Allergien']) expect(after).toContain(s);
    // Rows stay, for reports and dedupe: the session and every event, with their statuses.
    expect(await findCallSession(t.db, erased)).toMatchObject({
      call_status: 'ended',
      from_number: null,
      call_summary: null,
      transcript: null,
      erased_at: expect.any(Date),
    });
    const events = await findWebhookEvents(t.db, erased);
    expect(events.map((e) => e.event_type)).toEqual([
      'call_inbound',
      'call_started',
      'transfer_started',
      'call_analyzed',
    ]);
    expect(events.every((e) => e.raw_body === null && JSON.stringify(e.payload) === '{}')).toBe(true);
    // The held delivery for the team's CRM is cancelled, not sent later.
    const deliveries = await t.db.selectFrom('forward_deliveries').selectAll().where('subject', '=', erased).execute();
    expect(deliveries.map((d) => [d.status, d.payload])).toEqual([['cancelled', null]]);
    const erasures = await t.db.selectFrom('erasures').selectAll().execute();
    expect(erasures).toEqual([expect.objectContaining({ scope: 'caller', retell_deleted: 1, retell_failed: 0 })]);
    expect(JSON.stringify(erasures)).not.toContain(CALLER.slice(1));

    // Retell retries a delivery: only counted, its row stays empty.
    const analyzed = call(erased, CALLER, NAME, 'call_analyzed');
    const retry = await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }));
    expect(retry.body.duplicate).toBe(true);
    // Retell re-runs the analysis (a new event): stored, not applied, its payload removed at once.
    analyzed.call_analysis = { ...analyzed.call_analysis, call_summary: `${NAME}: re-run` };
    const late = await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }));
    expect(late.body.duplicate).toBe(false);
    const [row] = await p.settled([late.body.id]);
    expect(row).toMatchObject({ status: 'skipped', error: expect.stringMatching(/^erased/), raw_body: null });
    expect(await findCallSession(t.db, erased)).toMatchObject({ from_number: null, call_summary: null });
    for (const s of [...numberForms(CALLER), NAME]) expect(await dumpData(t.url)).not.toContain(s);

    // Again: nothing left to find or remove.
    const again = forgetCli('--caller', CALLER, '--local-only');
    expect(await again.exited).toBe(0);
    expect(again.output()).toContain('0 call(s), 0 chat(s)');
  });

  it('--call-id erases that call only; --local-only leaves Retell alone', async () => {
    const first = await wholeCall(CALLER, NAME);
    const second = await wholeCall(CALLER, NAME);
    const cli = forgetCli('--call-id', first, '--local-only');
    expect({ code: await cli.exited, output: cli.output() }).toMatchObject({ code: 0 });
    expect(cli.output()).toContain('Retell: not asked (--local-only)');
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(await findCallSession(t.db, first)).toMatchObject({ from_number: null, erased_at: expect.any(Date) });
    expect(await findCallSession(t.db, second)).toMatchObject({ from_number: CALLER, erased_at: null });
  });

  it('refuses to guess: a number that is not E.164, or neither --caller nor --call-id', async () => {
    const bad = forgetCli('--caller', '0170 1234567');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--caller must be an E.164 number');
    const none = forgetCli();
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('say whom to forget');
  });
});
