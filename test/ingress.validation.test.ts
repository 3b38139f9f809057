import request from 'supertest';
import { sign } from 'retell-sdk';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { startPipeline, WEBHOOK_PATH, type Pipeline } from './support/pipeline';

let t: TestDatabase;
let p: Pipeline;
beforeAll(async () => {
  t = await createTestDatabase();
  p = await startPipeline(t.db, { worker: false });
});
afterAll(async () => {
  await p.close();
  await t.drop();
});

async function rowCount(): Promise<number> {
  const r = await t.db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('POST /api/webhooks/retell: bad input', () => {
  it('answers 400 for malformed JSON, even when signed', async () => {
    const before = await rowCount();
    const res = await p.deliver('{"event": "call_started", "call": {');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^body is not valid JSON/);
    expect(await rowCount()).toBe(before);
  });

  it('answers 400 naming call.call_id when it is missing', async () => {
    const res = await p.deliver(JSON.stringify({ event: 'call_started', call: { agent_id: 'a' } }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid webhook: call.call_id is required');
  });

  it('names each invalid field', async () => {
    const res = await p.deliver(JSON.stringify({ event: 42, call: { call_id: '' } }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/event: .*expected string/);
    expect(res.body.error).toMatch(/call\.call_id: /);
    const notObject = await p.deliver('[1,2]');
    expect(notObject.status).toBe(400);
    expect(notObject.body.error).toMatch(/must be a JSON object/);
  });

  it('answers 415 for a body that is not declared JSON', async () => {
    const payload = body('call_started', { callId: newCallId() });
    const res = await request(p.app)
      .post(WEBHOOK_PATH)
      .set('content-type', 'text/plain')
      .set('x-retell-signature', await sign(payload, TEST_API_KEY))
      .send(payload);
    expect(res.status).toBe(415);
    expect(res.body.error).toMatch(/Content-Type must be application\/json/);
  });

  it('accepts a long call (4.5 MB transcript) under the default 5 MB limit', async () => {
    const callId = newCallId('long');
    const payload = JSON.stringify({
      event: 'call_ended',
      call: { call_id: callId, call_status: 'ended', transcript: 'Agent: Hallo.\n'.repeat(330_000) },
    });
    expect(payload.length).toBeGreaterThan(4.5 * 1024 * 1024);
    const res = await p.deliver(payload);
    expect(res.status).toBe(200);
    const row = await t.db
      .selectFrom('webhook_events')
      .select(['payload'])
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect((row.payload as { call: { transcript: string } }).call.transcript).toHaveLength(
      'Agent: Hallo.\n'.length * 330_000,
    );
  });

  it('answers 413 for a body over MAX_BODY_BYTES and stores nothing', async () => {
    const before = await rowCount();
    const payload = JSON.stringify({
      event: 'call_ended',
      call: { call_id: newCallId(), transcript: 'x'.repeat(5 * 1024 * 1024) },
    });
    const res = await p.deliver(payload);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe(`body exceeds MAX_BODY_BYTES (${5 * 1024 * 1024} bytes)`);
    expect(await rowCount()).toBe(before);
  });

  it('stores a signed event whose text Postgres jsonb cannot hold (\\u0000), keeping the raw bytes', async () => {
    const callId = newCallId();
    const payload = JSON.stringify({ event: 'call_ended', call: { call_id: callId, transcript: 'a\u0000b' } });
    const res = await p.deliver(payload);
    expect(res.status).toBe(200);
    const row = await t.db
      .selectFrom('webhook_events')
      .select(['payload', 'raw_body'])
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect((row.payload as { call: { transcript: string } }).call.transcript).toBe('a\ufffdb');
    expect(row.raw_body?.toString('utf8')).toBe(payload);
  });

  it('stores a signed event with \\u0000 in a key, not only in a value', async () => {
    const callId = newCallId();
    const payload = JSON.stringify({
      event: 'call_ended',
      call: { call_id: callId, metadata: { 'crm\u0000id': 'x\u0000y' } },
    });
    const res = await p.deliver(payload);
    expect(res.status).toBe(200);
    const row = await t.db
      .selectFrom('webhook_events')
      .select(['payload', 'raw_body'])
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect((row.payload as { call: { metadata: unknown } }).call.metadata).toEqual({ 'crm\ufffdid': 'x\ufffdy' });
    expect(row.raw_body?.toString('utf8')).toBe(payload);
  });

  it('keeps serving after bad input', async () => {
    const res = await p.deliver(body('call_started', { callId: newCallId() }));
    expect(res.status).toBe(200);
    expect((await request(p.app).get('/healthz')).status).toBe(200);
    expect((await request(p.app).get('/readyz')).body).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('answers 404 with the path for unknown routes', async () => {
    const res = await request(p.app).post('/api/webhooks/other').send('{}');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('no route for POST /api/webhooks/other');
  });
});
