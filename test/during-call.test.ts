import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import request from 'supertest';
import { sign } from 'retell-sdk';
import { z } from 'zod';
import { createDb, type Db } from '@callsync/db';
import { addCompany, mapAgent, mapNumber, setBlockedNumbers, setNumberRouting } from '@callsync/db/tenants';
import {
  answerInbound,
  BUILTIN_FUNCTIONS,
  defaultHandlers,
  defineFunction,
  functionRegistry,
  invalidateTenantCache,
  processWebhookEventsBatch,
  stableJson,
  type InboundRouting,
} from '@callsync/domain';
import { sampleCall, type InboundCallRequest, type InboundSmsRequest } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { TEST_KEYS } from './support/keys';
import { startPipeline, type Pipeline } from './support/pipeline';
import { signedPost } from './support/live';
import { until } from './support/processes';

/** During the call: function requests, the context API and the inbound webhook, answered in the request. */
const t = useTestDatabase();
const TOKEN = 'token_for_tests_only';
let runs = 0;
const counting = defineFunction({
  name: 'book_slot',
  description: 'test: books and counts',
  args: z.object({ slot: z.string() }),
  async handle(_ctx, { slot }) {
    runs += 1;
    return `Booked ${slot}.`;
  },
});
const failing = defineFunction({
  name: 'always_fails',
  description: 'test: throws',
  args: z.object({}),
  async handle() {
    throw new Error('the CRM is down');
  },
});
let p: Pipeline;
let company: { id: string };
beforeEach(async () => {
  await truncateAll(t.db);
  await t.db.deleteFrom('function_calls').execute();
  invalidateTenantCache();
  runs = 0;
  company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(t.db, 'agent_weber', company.id);
  // With no worker: nothing is applied unless a test applies it.
  p = await startPipeline(t.db, {
    worker: false,
    ingress: { functions: functionRegistry([...BUILTIN_FUNCTIONS, counting, failing]), apiTokens: [TOKEN, 'second'] },
  });
});
afterEach(() => p.close());

const liveCall = (callId: string) =>
  sampleCall({ callId, agentId: 'agent_weber', startMs: Date.UTC(2026, 10, 24, 9) }, 'call_started');

describe('call context before any worker ran', () => {
  it('a function right after call_started has the full context, the same as after the worker ran', async () => {
    const callId = newCallId();
    const started = await p.deliver(
      body('call_started', { callId, agentId: 'agent_weber', startMs: Date.UTC(2026, 10, 24, 9) }),
    );
    expect(started.status).toBe(200);
    const fn = { name: 'get_call_context', args: {}, call: liveCall(callId) };
    const before = await signedPost(p.app, '/api/retell/functions/get_call_context', fn);
    expect(before.status).toBe(200);
    expect(before.text).toContain('for Praxis Dr. Weber with +491604366218');
    const ctxBefore = await request(p.app).get(`/api/calls/${callId}/context`).set('authorization', `Bearer ${TOKEN}`);
    expect(ctxBefore.status).toBe(200);
    expect(ctxBefore.body).toMatchObject({
      call_id: callId,
      company: { id: company.id, name: 'Praxis Dr. Weber', time_zone: 'Europe/Berlin' },
      agent: { agent_id: 'agent_weber' },
      call_status: 'in_progress',
      started_at: new Date(Date.UTC(2026, 10, 24, 9)).toISOString(),
      caller: { number: '+491604366218', known: false, call_count: 0 },
      sources: { session: false, pending_events: 1 },
    });

    await processWebhookEventsBatch(t.db, [started.body.id], defaultHandlers);
    const ctxAfter = await request(p.app).get(`/api/calls/${callId}/context`).set('authorization', `Bearer second`);
    const { sources: s1, ...restBefore } = ctxBefore.body;
    const { sources: s2, ...restAfter } = ctxAfter.body;
    expect(s1).not.toEqual(s2);
    expect(restAfter).toEqual(restBefore);
    // A function gets the same answer from the stored session (its own call object merged on top).
    await t.db.deleteFrom('function_calls').execute();
    const after = await signedPost(p.app, '/api/retell/functions/get_call_context', fn);
    expect(after.text).toBe(before.text);
  });

  it('a returning caller is known with the last call’s summary', async () => {
    const first = newCallId('first');
    const ids = [
      (await p.deliver(body('call_ended', { callId: first, agentId: 'agent_weber' }))).body.id,
      (await p.deliver(body('call_analyzed', { callId: first, agentId: 'agent_weber' }))).body.id,
    ];
    await processWebhookEventsBatch(t.db, ids, defaultHandlers);
    const res = await signedPost(p.app, '/api/retell/functions/get_caller_history', {
      name: 'get_caller_history',
      args: {},
      call: liveCall(newCallId()),
    });
    expect(res.text).toMatch(/called 1 time before; the last call was .*Last time: The caller booked an appointment/);
  });
});

describe('custom functions', () => {
  it('a retry of the same call, name and args runs the handler once and answers the same', async () => {
    const fn = { name: 'book_slot', args: { slot: 'Thu 10:00' }, call: liveCall(newCallId()) };
    const answers = await Promise.all([1, 2, 3].map(() => signedPost(p.app, '/api/retell/functions/book_slot', fn)));
    expect(answers.map((a) => [a.status, a.text])).toEqual([1, 2, 3].map(() => [200, 'Booked Thu 10:00.']));
    expect(runs).toBe(1);
    // The result, and the retries' count, are recorded right after the answers.
    const rows = await until('the result and both retries to be recorded', async () => {
      const r = await t.db.selectFrom('function_calls').selectAll().execute();
      return r[0]?.status === 'ok' && r[0].replays === 2 ? r : undefined;
    });
    expect(rows).toEqual([
      expect.objectContaining({
        name: 'book_slot',
        status: 'ok',
        result: 'Booked Thu 10:00.',
        replays: 2,
        args: { slot: 'Thu 10:00' },
      }),
    ]);
    // Other args are another invocation.
    await signedPost(p.app, '/api/retell/functions/book_slot', { ...fn, args: { slot: 'Fri 9:00' } });
    expect(runs).toBe(2);
  });

  it('an invocation whose process died mid-run does not block its retry', async () => {
    const call = liveCall(newCallId());
    const args = { slot: 'Mon 8:00' };
    const key = `${call.call_id}:book_slot:${createHash('sha256').update(stableJson(args)).digest('hex').slice(0, 32)}`;
    await sql`insert into function_calls (call_id, name, args, invocation_key, created_at)
      values (${call.call_id}, 'book_slot', ${JSON.stringify(args)}::jsonb, ${key}, now() - interval '1 minute')`.execute(
      t.db,
    );
    const res = await signedPost(p.app, '/api/retell/functions/book_slot', { name: 'book_slot', args, call });
    expect([res.status, res.text, runs]).toEqual([200, 'Booked Mon 8:00.', 1]);
    // The result is recorded right after the answer.
    const rows = await until('the retry’s result to be recorded', async () => {
      const r = await t.db.selectFrom('function_calls').select(['status', 'error']).orderBy('id').execute();
      return r.some((row) => row.status === 'running') ? undefined : r;
    });
    expect(rows).toEqual([
      { status: 'error', error: 'abandoned: the process running it stopped' },
      { status: 'ok', error: null },
    ]);
  });

  it('bad args get a sentence the agent can say; a handler error gets 500 so Retell retries; args-only mode works', async () => {
    const bad = await signedPost(p.app, '/api/retell/functions/book_slot', {
      name: 'book_slot',
      args: {},
      call: liveCall(newCallId()),
    });
    expect(bad.status).toBe(200);
    expect(bad.text).toMatch(/^I could not run book_slot: slot /);
    const failed = await signedPost(p.app, '/api/retell/functions/always_fails', {
      name: 'always_fails',
      args: {},
      call: liveCall(newCallId()),
    });
    expect(failed.status).toBe(500);
    const row = await t.db
      .selectFrom('function_calls')
      .selectAll()
      .where('name', '=', 'always_fails')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'error', error: 'the CRM is down' });
    const argsOnly = await signedPost(p.app, '/api/retell/functions/book_slot', { slot: 'Sat 11:00' });
    expect([argsOnly.status, argsOnly.text]).toEqual([200, 'Booked Sat 11:00.']);
    expect((await signedPost(p.app, '/api/retell/functions/nope', {})).status).toBe(404);
  });

  it('a bad signature gives 401 and runs nothing; the context API wants a right bearer token', async () => {
    const fn = { name: 'book_slot', args: { slot: 'x' }, call: liveCall(newCallId()) };
    const res = await signedPost(p.app, '/api/retell/functions/book_slot', fn, 'v=1,d=' + '0'.repeat(64));
    expect(res.status).toBe(401);
    expect(runs).toBe(0);
    expect(await t.db.selectFrom('function_calls').selectAll().execute()).toEqual([]);
    const none = await request(p.app).get('/api/calls/c1/context');
    const wrong = await request(p.app).get('/api/calls/c1/context').set('authorization', 'Bearer nope');
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(
      (await request(p.app).get('/api/calls/unknown_call/context').set('authorization', `Bearer ${TOKEN}`)).status,
    ).toBe(404);
  });
});

describe('inbound webhook', () => {
  const NUMBER = '+493033081738';
  beforeEach(async () => {
    await mapNumber(t.db, NUMBER, company.id);
    await setNumberRouting(t.db, NUMBER, {
      variables: { practice_phone: '030 3308 1738' },
      schedules: [
        {
          weekdays: [1, 2, 3, 4, 5],
          starts_at: '08:00:00',
          ends_at: '18:00:00',
          agent_id: 'agent_day',
          agent_version: 4,
        },
      ],
    });
  });

  it('answers with the company, caller memory and the agent of the time window, and records the event', async () => {
    const earlier = newCallId('earlier');
    const ids = [(await p.deliver(body('call_analyzed', { callId: earlier, agentId: 'agent_weber' }))).body.id];
    await processWebhookEventsBatch(t.db, ids, defaultHandlers);
    const res = await signedPost(p.app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { from_number: '+491604366218', to_number: NUMBER },
    });
    expect(res.status).toBe(200);
    expect(res.body.call_inbound.dynamic_variables).toEqual({
      practice_phone: '030 3308 1738',
      company_name: 'Praxis Dr. Weber',
      caller_known: 'true',
      caller_call_count: '1',
      caller_last_call_at: expect.stringMatching(/^2025-/),
      caller_last_summary: 'The caller booked an appointment for Thursday 10:00.',
    });
    // Recorded after the answer, so the caller never waits on it.
    const recorded = await until('the inbound webhook to be recorded', async () => {
      const rows = await t.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('event_type', '=', 'call_inbound')
        .execute();
      return rows.length ? rows : undefined;
    });
    expect(recorded).toEqual([expect.objectContaining({ status: 'processed', call_id: null })]);
    const chat = await signedPost(p.app, '/api/retell/inbound', {
      event: 'chat_inbound',
      chat_inbound: { from_number: '+4917', to_number: NUMBER },
    });
    expect(Object.keys(chat.body)).toEqual(['chat_inbound']);
    expect((await signedPost(p.app, '/api/retell/inbound', { event: 'call_inbound', call_inbound: {} })).status).toBe(
      400,
    );
  });

  it.each([
    ['Monday 07:59:59 Berlin', 'the number’s own agent', Date.UTC(2026, 10, 23, 6, 59, 59), undefined],
    ['Monday 08:00:00 Berlin', 'agent_day', Date.UTC(2026, 10, 23, 7, 0, 0), 'agent_day'],
    ['Friday 17:59:59 Berlin', 'agent_day', Date.UTC(2026, 10, 27, 16, 59, 59), 'agent_day'],
    ['Friday 18:00:00 Berlin', 'the number’s own agent', Date.UTC(2026, 10, 27, 17, 0, 0), undefined],
    ['Saturday noon Berlin', 'the number’s own agent', Date.UTC(2026, 10, 28, 11, 0, 0), undefined],
  ])('routes %s to %s', async (_when, _label, at, agent) => {
    const d = await answerInbound(
      t.db,
      TEST_KEYS,
      { from_number: '+491700000000', to_number: NUMBER },
      { now: new Date(at) },
    );
    expect(d.outcome).toBe('routed');
    const answer = d.answer as InboundRouting;
    expect(answer.override_agent_id).toBe(agent);
    if (agent) expect(answer.override_agent_version).toBe(4);
  });

  it('rejects a blocked caller with {"reject": true} and nothing else, for calls and SMS alike', async () => {
    await setBlockedNumbers(t.db, company.id, ['+4915112345678']);
    const res = await signedPost(p.app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { agent_id: 'agent_front_desk', from_number: '+4915112345678', to_number: NUMBER },
    } satisfies InboundCallRequest);
    expect([res.status, res.body]).toEqual([200, { call_inbound: { reject: true } }]);
    const sms = await signedPost(p.app, '/api/retell/inbound', {
      event: 'chat_inbound',
      chat_inbound: { from_number: '+4915112345678', to_number: NUMBER },
    } satisfies InboundSmsRequest);
    expect([sms.status, sms.body]).toEqual([200, { chat_inbound: { reject: true } }]);
  });

  it("takes the company from the agent first, as sessions do: the agent's blocklist, memory and name", async () => {
    // The number belongs to nobody; the number's inbound agent to Praxis Dr. Weber.
    const other = '+493099999999';
    await setBlockedNumbers(t.db, company.id, ['+4915112345678']);
    const blocked = await signedPost(p.app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { agent_id: 'agent_weber', from_number: '+4915112345678', to_number: other },
    } satisfies InboundCallRequest);
    expect(blocked.body).toEqual({ call_inbound: { reject: true } });
    const routed = await signedPost(p.app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { agent_id: 'agent_weber', from_number: '+491700000001', to_number: other },
    } satisfies InboundCallRequest);
    expect(routed.body.call_inbound.dynamic_variables).toMatchObject({ company_name: 'Praxis Dr. Weber' });
    // Without the agent, the unmapped number gives no company.
    const unmapped = await signedPost(p.app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { from_number: '+4915112345678', to_number: other },
    } satisfies InboundCallRequest);
    expect(unmapped.body.call_inbound.dynamic_variables).toMatchObject({ company_name: '' });
  });

  it("Retell's retry of one call_inbound (same call_id) gets the first answer; its SIP headers and timestamp are kept", async () => {
    const callId = newCallId('inbound');
    const request1 = {
      event: 'call_inbound',
      event_timestamp: 1780012672105,
      call_inbound: {
        agent_id: 'agent_weber',
        from_number: '+4915112345678',
        to_number: NUMBER,
        call_id: callId,
        custom_sip_headers: { 'x-praxis-line': 'rezeption' },
      },
    } satisfies InboundCallRequest;
    const first = await signedPost(p.app, '/api/retell/inbound', request1);
    expect(first.body.call_inbound.reject).toBeUndefined();
    const recorded = await until('the inbound webhook to be recorded', async () =>
      t.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('dedupe_key', '=', `call_inbound:${callId}`)
        .executeTakeFirst(),
    );
    expect(recorded).toMatchObject({ call_id: callId, status: 'processed', answer: first.body.call_inbound });
    expect(recorded.payload).toMatchObject({
      event_timestamp: 1780012672105,
      call_inbound: { custom_sip_headers: { 'x-praxis-line': 'rezeption' } },
    });
    // The caller is blocked meanwhile: a retry of the same call is still answered as the first time;
    // a new call is rejected.
    await setBlockedNumbers(t.db, company.id, ['+4915112345678']);
    const retry = await signedPost(p.app, '/api/retell/inbound', { ...request1, event_timestamp: 1780012682105 });
    expect(retry.body).toEqual(first.body);
    const next = await signedPost(p.app, '/api/retell/inbound', {
      ...request1,
      call_inbound: { ...request1.call_inbound, call_id: `${callId}_2` },
    });
    expect(next.body).toEqual({ call_inbound: { reject: true } });
    await until('the retry to be counted', async () => {
      const row = await t.db
        .selectFrom('webhook_events')
        .select('delivery_count')
        .where('dedupe_key', '=', `call_inbound:${callId}`)
        .executeTakeFirst();
      return row?.delivery_count === 2 || undefined;
    });
  });

  it('records inbound webhooks in groups: repeats of one request arriving together are one row with their count', async () => {
    const callId = newCallId('burst');
    const request = {
      event: 'call_inbound',
      call_inbound: { from_number: '+491700000009', to_number: NUMBER, call_id: callId },
    } satisfies InboundCallRequest;
    const others = [1, 2, 3].map((i) => ({
      event: 'call_inbound',
      call_inbound: { from_number: '+491700000009', to_number: NUMBER, call_id: `${callId}_${i}` },
    }));
    const answers = await Promise.all([
      ...[1, 2, 3, 4, 5].map(() => signedPost(p.app, '/api/retell/inbound', request)),
      ...others.map((o) => signedPost(p.app, '/api/retell/inbound', o)),
    ]);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const rows = await until('every request to be recorded', async () => {
      const r = await t.db
        .selectFrom('webhook_events')
        .select(['call_id', 'delivery_count'])
        .where('event_type', '=', 'call_inbound')
        .orderBy('call_id')
        .execute();
      return r.length === 4 && r[0]!.delivery_count === 5 ? r : undefined;
    });
    expect(rows).toEqual([
      { call_id: callId, delivery_count: 5 },
      ...[1, 2, 3].map((i) => ({ call_id: `${callId}_${i}`, delivery_count: 1 })),
    ]);
  });

  it('answers the number’s defaults within its budget when Postgres does not answer', async () => {
    // Read once, as a running ingress has, then Postgres stops answering (a server that never replies).
    await answerInbound(t.db, TEST_KEYS, { from_number: null, to_number: NUMBER });
    // It accepts and never answers; its sockets are closed at the end (close() alone leaves them open).
    const accepted = new Set<Socket>();
    const silent: Server = createServer((socket) => accepted.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    // No connect timeout: the connection never fails, so only the inbound budget can end the wait. A
    // response at all shows the budget worked (without it the request would hang until Jest's timeout).
    const deadDb: Db = createDb({ url: `postgres://x:y@127.0.0.1:${port}/none`, poolSize: 2, connectTimeoutMs: 0 });
    const q = await startPipeline(t.db, { worker: false, ingress: { liveDb: deadDb } });
    try {
      const payload = JSON.stringify({
        event: 'call_inbound',
        call_inbound: { from_number: '+4917', to_number: NUMBER },
      });
      const res = await request(q.app)
        .post('/api/retell/inbound')
        .set('content-type', 'application/json')
        .set('x-retell-signature', await sign(payload, TEST_API_KEY))
        .send(payload);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ call_inbound: { dynamic_variables: { practice_phone: '030 3308 1738' } } });
      // It still waits on Postgres: the answer came from the budget, not from a failed connection.
      expect(accepted.size).toBeGreaterThan(0);
    } finally {
      await q.close();
      // Closing the silent server's sockets fails the pending connections, so the pool can end.
      for (const socket of accepted) socket.destroy();
      silent.close();
      await deadDb.destroy().catch(() => undefined);
    }
  });
});
