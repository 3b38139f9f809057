import { sign } from 'retell-sdk';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';

const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline(t.db, { worker: false });
});
afterEach(() => p.close());

async function storedRows(callId: string): Promise<number> {
  const r = await t.db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('event_id', '=', callId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Sign as retell-sdk would have at another moment. */
async function signAt(payload: string, atMs: number): Promise<string> {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(atMs);
  try {
    return await sign(payload, TEST_API_KEY);
  } finally {
    spy.mockRestore();
  }
}

describe('POST /api/webhooks/retell: signature', () => {
  it('accepts a delivery signed with retell-sdk and stores it pending', async () => {
    const callId = newCallId();
    const res = await p.deliver(body('call_started', { callId }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: true, duplicate: false });
    const row = await t.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      event_type: 'call_started',
      event_id: callId,
      status: 'pending',
      source: 'webhook',
      provider: 'retell',
      delivery_count: 1,
    });
    // Stored exactly as received, signature header included.
    expect(row.raw_body?.toString('utf8')).toBe(body('call_started', { callId }));
    expect(row.signature).toMatch(/^v=\d+,d=[0-9a-f]{64}$/);
    expect(await p.queue.getJob(`evt-${row.id}`)).toBeDefined();
  });

  it('refuses a missing signature with 401 and stores nothing', async () => {
    const callId = newCallId();
    const res = await p.deliver(body('call_started', { callId }), null);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/missing X-Retell-Signature/);
    expect(await storedRows(callId)).toBe(0);
  });

  it('refuses a signature made with another key', async () => {
    const callId = newCallId();
    const payload = body('call_started', { callId });
    const res = await p.deliver(payload, await sign(payload, 'key_someone_else'));
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/does not match/);
    expect(await storedRows(callId)).toBe(0);
  });

  it('refuses a signature of a different body (tampered in transit)', async () => {
    const callId = newCallId();
    const sig = await sign(body('call_started', { callId }), TEST_API_KEY);
    const res = await p.deliver(body('call_started', { callId, fromNumber: '+4900000000' }), sig);
    expect(res.status).toBe(401);
    expect(await storedRows(callId)).toBe(0);
  });

  it('refuses a stale or future signature (more than 5 minutes off)', async () => {
    const callId = newCallId();
    const payload = body('call_started', { callId });
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const res = await p.deliver(payload, await signAt(payload, Date.now() + offset));
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/more than 5 minutes/);
    }
    // A 4-minute-old signature (a slow retry) is still fine.
    expect((await p.deliver(payload, await signAt(payload, Date.now() - 4 * 60_000))).status).toBe(200);
    expect(await storedRows(callId)).toBe(1);
  });

  it('refuses a malformed signature header', async () => {
    const callId = newCallId();
    const res = await p.deliver(body('call_started', { callId }), 'sha256=deadbeef');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/must look like v=<unix ms>,d=<64 hex digits>/);
    expect(await storedRows(callId)).toBe(0);
  });

  it('accepts hex digits in upper case, as retell-sdk does', async () => {
    const callId = newCallId();
    const payload = body('call_started', { callId });
    const [v, d] = (await sign(payload, TEST_API_KEY)).split(',d=') as [string, string];
    const res = await p.deliver(payload, `${v},d=${d.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(await storedRows(callId)).toBe(1);
  });
});

describe('POST /api/webhooks/retell: webhook keys apart from the API key', () => {
  // Retell signs with the key that has the webhook badge; the API key may be another one.
  const WEBHOOK_KEY = 'key_webhook_badge_0123456789';
  let own: Pipeline;
  beforeEach(async () => {
    own = await startPipeline(t.db, { worker: false, webhookKeys: [WEBHOOK_KEY, 'key_webhook_previous'] });
  });
  afterEach(() => own.close());

  it('verifies with RETELL_WEBHOOK_KEYS and refuses a body signed with the API key', async () => {
    const callId = newCallId();
    const payload = body('call_started', { callId });
    const refused = await own.deliver(payload, await sign(payload, TEST_API_KEY));
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/RETELL_WEBHOOK_KEYS/);
    expect(await storedRows(callId)).toBe(0);
    expect((await own.deliver(payload, await sign(payload, WEBHOOK_KEY))).status).toBe(200);
    // The previous webhook key still verifies during a rotation.
    const other = newCallId();
    const second = body('call_started', { callId: other });
    expect((await own.deliver(second, await sign(second, 'key_webhook_previous'))).status).toBe(200);
    expect(await storedRows(callId)).toBe(1);
    expect(await storedRows(other)).toBe(1);
  });
});
