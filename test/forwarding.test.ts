import { sql } from 'kysely';
import { findAttempts, findDeliveriesOf, resumeDestination, type ForwardDelivery } from '@callsync/db/forward';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import {
  checkDestinationUrl,
  createDestination,
  defaultHandlers,
  processWebhookEvent,
  rotateSecret,
  type DestinationInput,
  type EventHandler,
} from '@callsync/domain';
import { ForwardReceiver, type ReceiverAnswer } from '@callsync/fake-receiver';
import { createLogger } from '@callsync/logger';
import { ensureForwardJobs, forwardJobId } from '@callsync/queue';
import { waitUntil } from '@callsync/runtime';
import { applyRetention, sweepOverdueForwards } from '@callsync/worker';
import { queueIdle } from './support/queue-idle';
import { receivingDestination } from './support/destinations';
import { useTestDatabase, truncateAll } from './support/database';
import { body, LIFECYCLE, newCallId, START_MS, storeEvent } from './support/calls';
import { sampleTranscriptUpdateBody } from '@callsync/retell';
import { TEST_KEYS } from './support/keys';
import { startPipeline, type Pipeline } from './support/pipeline';
import { sentTooEarly } from './support/pacing';

const t = useTestDatabase();
let p: Pipeline | undefined;
const receivers: ForwardReceiver[] = [];
beforeEach(() => truncateAll(t.db));
afterEach(async () => {
  await p?.close();
  p = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

/** A destination and a receiver that verifies with its secret. */
async function destination(
  input: Omit<DestinationInput, 'url'>,
  respond?: (m: ForwardReceiver['received'][number]) => ReceiverAnswer,
) {
  const d = await receivingDestination(t.db, input, respond);
  receivers.push(d.receiver);
  return d;
}

async function pipeline(retrySchedule = [100, 200, 400]): Promise<Pipeline> {
  p = await startPipeline(t.db, { forwarding: { retrySchedule, timeoutMs: 15_000 } });
  return p;
}

async function deliverCall(callId: string, agentId = 'agent_fwd', events = LIFECYCLE): Promise<string[]> {
  const ids: string[] = [];
  for (const event of events) {
    const res = await p!.deliver(body(event, { callId, agentId }));
    expect(res.status).toBe(200);
    ids.push(res.body.id);
  }
  await p!.settled(ids);
  return ids;
}

const deliveries = (where: Partial<Pick<ForwardDelivery, 'destination_id'>> = {}) =>
  t.db
    .selectFrom('forward_deliveries')
    .selectAll()
    .$if(where.destination_id !== undefined, (q) => q.where('destination_id', '=', where.destination_id!))
    .orderBy('id')
    .execute();

/** Wait until no delivery is pending; returns them all. */
async function drained(timeoutMs = 20_000): Promise<ForwardDelivery[]> {
  const done = await waitUntil(
    async () => {
      const rows = await deliveries();
      return rows.length > 0 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
  if (done) return done;
  throw new Error(
    `deliveries still pending: ${JSON.stringify((await deliveries()).map((r) => [r.id, r.status, r.last_error]))}`,
  );
}

const typeOf = (m: { body: string }) => {
  const parsed = JSON.parse(m.body) as { event?: string; type?: string };
  return parsed.event ?? parsed.type;
};

describe('forwarding to destinations', () => {
  it('forwards only the events and companies each destination asked for, signed, raw bodies byte for byte', async () => {
    const weber = await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin');
    const other = await addCompany(t.db, 'Autohaus Nord', 'Europe/Berlin');
    await mapAgent(t.db, 'agent_weber', weber.id);
    await mapAgent(t.db, 'agent_nord', other.id);
    const analyzedAll = await destination({ events: ['call_analyzed'] });
    const endedWeber = await destination({ events: ['call_ended', 'call_started'], companyId: weber.id });
    const sessionNord = await destination({ events: ['call_ended'], companyId: other.id, payloadMode: 'session' });
    await pipeline();

    const weberCall = newCallId();
    const nordCall = newCallId();
    await deliverCall(weberCall, 'agent_weber');
    await deliverCall(nordCall, 'agent_nord');
    await drained();

    const summary = (r: ForwardReceiver) => r.received.map((m) => [typeOf(m), m.verified, m.status]);
    expect(summary(analyzedAll.receiver)).toEqual([
      ['call_analyzed', true, 204],
      ['call_analyzed', true, 204],
    ]);
    expect(summary(endedWeber.receiver)).toEqual([
      ['call_started', true, 204],
      ['call_ended', true, 204],
    ]);
    expect(summary(sessionNord.receiver)).toEqual([['call_ended', true, 204]]);

    // raw: exactly what Retell sent.
    expect(endedWeber.receiver.received.map((m) => m.body)).toEqual([
      body('call_started', { callId: weberCall, agentId: 'agent_weber' }),
      body('call_ended', { callId: weberCall, agentId: 'agent_weber' }),
    ]);
    // session: the session row after the event, with its company.
    const session = JSON.parse(sessionNord.receiver.received[0]!.body);
    expect(session).toMatchObject({
      type: 'call_ended',
      data: { call_id: nordCall, call_status: 'ended', company_id: Number(other.id) },
    });
    expect(new Date(session.timestamp).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps signing with the old secret for the overlap after a rotation, and not after it', async () => {
    // fail_4xx: the receiver's 401 fails the delivery at once (by default a 401 is retried).
    const d = await destination({ events: ['call_started'], fail4xx: true });
    await pipeline();
    const old = d.secret;
    const rotated = (await rotateSecret(t.db, TEST_KEYS, d.id))!;
    expect(rotated.secret).not.toBe(old);

    d.receiver.secrets = [old];
    await deliverCall(newCallId(), 'agent_a', ['call_started']);
    d.receiver.secrets = [rotated.secret];
    await deliverCall(newCallId(), 'agent_a', ['call_started']);
    await drained();
    expect(d.receiver.received.map((m) => [m.verified, m.status])).toEqual([
      [true, 204],
      [true, 204],
    ]);
    // Both signatures are sent during the overlap.
    expect(d.receiver.received[0]!.signature.split(' ')).toHaveLength(2);

    // After the overlap only the new secret signs: a receiver still on the old one rejects it (with
    // fail_4xx, its 401 fails the delivery at once).
    await sql`update forward_destinations set previous_secret_expires_at = now() - interval '1 second'`.execute(t.db);
    d.receiver.secrets = [old];
    const callId = newCallId();
    await deliverCall(callId, 'agent_a', ['call_started']);
    const [last] =
      (await waitUntil(
        async () => {
          const rows = await findDeliveriesOf(t.db, callId);
          return rows[0]?.status === 'failed' ? rows : undefined;
        },
        { timeoutMs: 10_000 },
      )) ?? [];
    expect(last).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 401 });
    expect(d.receiver.received.at(-1)!.signature.split(' ')).toHaveLength(1);
  });

  it('delivers every event exactly once, in order per call, after the receiver was down for a while', async () => {
    let down = true;
    const d = await destination({ events: [...LIFECYCLE], breakerThreshold: 0 }, (m) =>
      down ? 503 : m.verified ? 204 : 401,
    );
    await pipeline([50, 100, 200, 400, 800, 1600, 3200]);
    const calls = Array.from({ length: 8 }, () => newCallId());
    await Promise.all(calls.map((c) => deliverCall(c)));
    await waitUntil(async () => (d.receiver.received.length >= 16 ? true : undefined), { timeoutMs: 10_000 });
    down = false;
    const rows = await drained(30_000);

    expect(rows).toHaveLength(calls.length * 3);
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    const ok = d.receiver.byId();
    expect(ok.size).toBe(rows.length);
    expect([...ok.values()].every((ms) => ms.length === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set(ok.keys()));
    // Retries kept the webhook-id: each failed try had the id of a delivery that later arrived.
    const failedIds = d.receiver.received.filter((m) => m.status === 503).map((m) => m.id);
    expect(failedIds.length).toBeGreaterThan(0);
    expect(failedIds.every((id) => ok.has(id))).toBe(true);
    // In order per call: the order of arrival is the order the events were applied.
    for (const callId of calls) {
      const expected = rows.filter((r) => r.subject === callId).map((r) => r.message_id);
      const arrived = d.receiver.received.filter((m) => m.status === 204 && expected.includes(m.id)).map((m) => m.id);
      expect(arrived).toEqual(expected);
    }
    // Every try is on record.
    const attempts = await findAttempts(t.db, rows[0]!.id);
    expect(attempts.length).toBe(rows[0]!.attempts);
    expect(attempts.at(-1)).toMatchObject({ status_code: 204 });
  });

  it('pauses a destination after N consecutive failures, holds its deliveries, and resume (before any probe) drains them in order', async () => {
    let up = false;
    const d = await destination({ events: [...LIFECYCLE], breakerThreshold: 3 }, (m) => (up && m.verified ? 204 : 500));
    await pipeline([50, 50, 50, 50, 50, 50]);
    const calls = [newCallId(), newCallId()];
    for (const c of calls) await deliverCall(c);

    const paused = await waitUntil(
      async () => {
        const dest = await t.db
          .selectFrom('forward_destinations')
          .selectAll()
          .where('id', '=', d.id)
          .executeTakeFirst();
        const rows = await deliveries();
        // A delivery in flight as the breaker opened is held by its next claim, after its retry delay.
        const settled = calls.every((c) => {
          const head = rows.find((r) => r.subject === c);
          return head && (head.status === 'held' || head.id === dest?.probe_delivery_id);
        });
        return dest?.state === 'paused' && rows.length === 6 && rows.every((r) => r.lease_until === null) && settled
          ? { dest, rows }
          : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(paused?.dest.paused_reason).toMatch(/circuit breaker: 3 consecutive failures/);
    expect(paused?.dest.paused_by).toBe('breaker');
    // Nothing dropped: held, or (applied while the pause committed) pending behind a held head; the
    // one delivery kept pending is the breaker's probe (sent after its cool-down, 30 s by default).
    const rows0 = paused!.rows;
    expect(rows0.every((r) => r.status === 'held' || r.status === 'pending')).toBe(true);
    for (const callId of calls) {
      const head = rows0.find((r) => r.subject === callId)!;
      expect(head.status).toBe(head.id === paused!.dest.probe_delivery_id ? 'pending' : 'held');
    }
    const triesWhilePaused = d.receiver.received.length;
    // The third failure pauses it; a try already in flight for the other call may still land.
    expect(triesWhilePaused).toBeGreaterThanOrEqual(3);
    expect(triesWhilePaused).toBeLessThanOrEqual(4);
    // Not tried while paused: every job there was has run (the probe's waits, delayed, for its cool-down).
    await queueIdle(p!.forwardQueue!);
    expect(d.receiver.received.length).toBe(triesWhilePaused);

    up = true;
    const { released, heads, probe } = await resumeDestination(t.db, d.id);
    expect(released).toBe(rows0.filter((r) => r.status === 'held').length);
    expect(heads).toHaveLength(2);
    expect(probe?.id).toBe(paused!.dest.probe_delivery_id);
    await ensureForwardJobs(p!.forwardQueue!, heads);
    // The probe's own job waits, delayed, for the probe time: as the CLI does, a job to go now.
    await p!.forwardQueue!.add(
      probe!.event_type,
      { deliveryId: probe!.id, destinationId: d.id },
      { jobId: `fwd-${probe!.id}-resumed` },
    );
    const rows = await drained();
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    for (const callId of calls) {
      const arrived = d.receiver.received.filter((m) => m.status === 204 && m.body.includes(callId)).map(typeOf);
      expect(arrived).toEqual(LIFECYCLE);
    }
  });

  it('with fail_4xx fails a delivery at once on a 400 with the status and the start of the answer, and goes on with the call', async () => {
    const longAnswer = 'bad request: ' + 'x'.repeat(5000);
    const d = await destination({ events: [...LIFECYCLE], fail4xx: true }, (m) =>
      typeOf(m) === 'call_started' ? { status: 400, body: longAnswer } : 204,
    );
    await pipeline();
    const callId = newCallId();
    await deliverCall(callId);
    const rows = await drained();
    expect(rows.map((r) => [r.event_type, r.status, r.attempts, r.last_status_code])).toEqual([
      ['call_started', 'failed', 1, 400],
      ['call_ended', 'delivered', 1, 204],
      ['call_analyzed', 'delivered', 1, 204],
    ]);
    const [attempt] = await findAttempts(t.db, rows[0]!.id);
    expect(attempt!.response_excerpt).toBe(longAnswer.slice(0, 1024));
    expect(d.receiver.received).toHaveLength(3);
    // The failed delivery's job is a failed job, for Bull Board.
    const job = await p!.forwardQueue!.getJob(forwardJobId(rows[0]!.id));
    expect(await job?.getState()).toBe('failed');
    expect(job?.failedReason).toMatch(/answered 400/);
  });

  it('writes deliveries in the transaction that applies the event: a failed apply queues none', async () => {
    await destination({ events: [...LIFECYCLE] });
    const failing: EventHandler = async () => {
      throw new Error('handler broke');
    };
    const handlers = { ...defaultHandlers, call_ended: failing };
    const callId = newCallId();
    const started = await storeEvent(t.db, 'call_started', callId);
    const ended = await storeEvent(t.db, 'call_ended', callId);
    const outcome = await processWebhookEvent(t.db, started, handlers);
    expect(outcome).toMatchObject({ outcome: 'processed', forwards: [{ event_type: 'call_started' }] });
    await expect(processWebhookEvent(t.db, ended, handlers)).rejects.toThrow('handler broke');
    expect((await deliveries()).map((r) => r.event_type)).toEqual(['call_started']);
    // Applying the same row again (a redelivered job) adds nothing.
    await processWebhookEvent(t.db, started, handlers);
    expect(await deliveries()).toHaveLength(1);
  });

  it('loses nothing when the worker dies between the apply and the enqueue: the sweeper sends it', async () => {
    const d = await destination({ events: [...LIFECYCLE] });
    const callId = newCallId();
    // Applied and committed, as by a worker that was SIGKILLed before it enqueued the forward jobs.
    for (const event of LIFECYCLE)
      await processWebhookEvent(t.db, await storeEvent(t.db, event, callId), defaultHandlers);
    expect((await deliveries()).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    await pipeline();
    const swept = await sweepOverdueForwards(t.db, p!.forwardQueue!, createLogger({ silent: true }), {
      pendingAfterMs: 0,
    });
    expect(swept).toMatchObject({ checked: 1, enqueued: 1 });
    const rows = await drained();
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(d.receiver.received.map(typeOf)).toEqual(LIFECYCLE);
  });
});

describe('destination safety', () => {
  it('refuses link-local and metadata addresses, and plain http without --allow-private', () => {
    expect(() => checkDestinationUrl('https://169.254.169.254/latest/meta-data')).toThrow(
      /link-local or cloud metadata/,
    );
    expect(() => checkDestinationUrl('https://[fe80::1]/hook')).toThrow(/link-local/);
    expect(() => checkDestinationUrl('http://crm.example.com/hook')).toThrow(
      /plain http is refused outside development/,
    );
    expect(() => checkDestinationUrl('ftp://example.com/')).toThrow(/cannot be destinations/);
    expect(() => checkDestinationUrl('not a url')).toThrow(/is not a URL/);
    expect(checkDestinationUrl('https://169.254.169.254/x', { allowLinkLocal: true })).toBe(
      'https://169.254.169.254/x',
    );
    expect(checkDestinationUrl('http://127.0.0.1:8080/hook', { allowPrivate: true })).toBe(
      'http://127.0.0.1:8080/hook',
    );
    expect(checkDestinationUrl('https://crm.example.com/hook')).toBe('https://crm.example.com/hook');
  });

  it('rejects unknown event types and names them', async () => {
    await expect(
      createDestination(t.db, TEST_KEYS, { url: 'https://crm.example.com/hook', events: ['call_analysed'] }),
    ).rejects.toThrow(/events: unknown call_analysed/);
  });
});

describe('forwarding and retention', () => {
  const policy = { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 };

  it('drops session bodies of finished deliveries after RETENTION_DAYS and the rows after EVENT_ROWS_RETENTION_DAYS; an unsent one keeps its body until SESSION_PII_RETENTION_DAYS', async () => {
    await destination({ events: [...LIFECYCLE], payloadMode: 'session' });
    const callId = newCallId();
    for (const event of LIFECYCLE)
      await processWebhookEvent(t.db, await storeEvent(t.db, event, callId), defaultHandlers);
    const [a, b, c] = await deliveries();
    await sql`update forward_deliveries set status = 'delivered', finished_at = now() - interval '40 days' where id = ${a!.id}`.execute(
      t.db,
    );
    await sql`update forward_deliveries set status = 'failed', finished_at = now() - interval '200 days' where id = ${b!.id}`.execute(
      t.db,
    );
    await sql`update forward_deliveries set created_at = now() - interval '40 days' where id = ${c!.id}`.execute(t.db);
    await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy);
    const after = await deliveries();
    // Before the fix the unsent one was cancelled at RETENTION_DAYS (30), its body gone.
    expect(after.map((r) => [r.id, r.status, r.payload === null])).toEqual([
      [a!.id, 'delivered', true],
      [c!.id, 'pending', false],
    ]);
    // The caller's data does not outlive the personal-data period, sent or not.
    await sql`update forward_deliveries set created_at = now() - interval '100 days' where id = ${c!.id}`.execute(t.db);
    await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy);
    const [, expired] = await deliveries();
    expect([expired!.status, expired!.payload, expired!.last_error]).toEqual([
      'cancelled',
      null,
      expect.stringMatching(/^expired: not sent within 90 days/),
    ]);
  });

  it('keeps the raw body of an event whose delivery is held past RETENTION_DAYS, and sends it byte for byte on resume', async () => {
    const d = await destination({ events: ['call_started'] });
    await sql`update forward_destinations set state = 'paused', paused_by = 'operator'`.execute(t.db);
    const callId = newCallId();
    const eventId = await storeEvent(t.db, 'call_started', callId);
    await processWebhookEvent(t.db, eventId, defaultHandlers);
    // Past RETENTION_DAYS (30), within SESSION_PII_RETENTION_DAYS (90); the row past EVENT_ROWS_RETENTION_DAYS too.
    await sql`update webhook_events set created_at = now() - interval '200 days', processed_at = now() - interval '60 days'`.execute(
      t.db,
    );
    await sql`update forward_deliveries set created_at = now() - interval '60 days'`.execute(t.db);
    await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy);
    // Before the fix the event lost its raw body (and then its row) and the delivery was cancelled.
    const event = await t.db.selectFrom('webhook_events').selectAll().where('id', '=', eventId).executeTakeFirst();
    expect(event?.raw_body).not.toBeNull();
    expect((await deliveries()).map((r) => r.status)).toEqual(['held']);
    await pipeline();
    const { heads } = await resumeDestination(t.db, d.id);
    await ensureForwardJobs(p!.forwardQueue!, heads);
    expect((await drained()).map((r) => r.status)).toEqual(['delivered']);
    expect(d.receiver.received.map((m) => m.body)).toEqual([body('call_started', { callId })]);
  });
});

describe('forwarding: storage and identity', () => {
  it('a longer transcript_updated snapshot replaces an older unsent one for the same call and destination', async () => {
    const d = await destination({ events: ['transcript_updated', 'call_ended'], payloadMode: 'session' });
    await sql`update forward_destinations set state = 'paused', paused_by = 'operator'`.execute(t.db);
    await pipeline();
    const callId = newCallId();
    for (const turns of [2, 4, 8]) {
      const res = await p!.deliver(sampleTranscriptUpdateBody({ callId, startMs: START_MS }, turns));
      expect(res.status).toBe(200);
      await p!.settled([res.body.id]);
    }
    await deliverCall(callId, 'agent_t', ['call_ended']);
    // Before the fix: three session copies of the growing transcript, one per snapshot.
    const rows = await findDeliveriesOf(t.db, callId);
    expect(rows.map((r) => [r.event_type, r.status])).toEqual([
      ['transcript_updated', 'held'],
      ['call_ended', 'held'],
    ]);
    const session = rows[0]!.payload as { data: { transcript: string } };
    expect(session.data.transcript.split('\n')).toHaveLength(8);
    // Sent in order once resumed: the latest transcript, then the end.
    const { heads } = await resumeDestination(t.db, d.id);
    await ensureForwardJobs(p!.forwardQueue!, heads);
    await drained();
    expect(d.receiver.received.map(typeOf)).toEqual(['transcript_updated', 'call_ended']);
  });

  it('derives the webhook-id from (event row, revision, destination): a re-apply after a lost commit sends the same id', async () => {
    const d = await destination({ events: ['call_started'] });
    const callId = newCallId();
    const eventId = await storeEvent(t.db, 'call_started', callId);
    await processWebhookEvent(t.db, eventId, defaultHandlers);
    const [first] = await deliveries();
    // Postgres crashed after the send and came back without the apply: the delivery row is gone and
    // the event is pending again; applying it again must not make a new webhook-id.
    await sql`delete from forward_deliveries`.execute(t.db);
    await sql`update webhook_events set status = 'pending', processed_at = null where id = ${eventId}`.execute(t.db);
    await processWebhookEvent(t.db, eventId, defaultHandlers);
    const [again] = await deliveries();
    expect(again!.id).not.toBe(first!.id);
    expect(again!.message_id).toBe(first!.message_id);
    expect(again!.message_id).toMatch(/^msg_[0-9a-f]{32}$/);
    // Another destination gets another id for the same event.
    const other = await destination({ events: ['call_started'] });
    await sql`delete from forward_deliveries`.execute(t.db);
    await sql`update webhook_events set status = 'pending', processed_at = null where id = ${eventId}`.execute(t.db);
    await processWebhookEvent(t.db, eventId, defaultHandlers);
    const ids = new Map((await deliveries()).map((r) => [r.destination_id, r.message_id]));
    expect(ids.get(d.id)).toBe(first!.message_id);
    expect(ids.get(other.id)).not.toBe(first!.message_id);
  });
});

describe('forwarding metrics', () => {
  it('exports per destination the backlog and its age from Postgres, and each attempt by outcome', async () => {
    const d = await destination({ events: ['call_started', 'call_ended'], fail4xx: true }, (m) =>
      typeOf(m) === 'call_started' ? 204 : 422,
    );
    await pipeline();
    await deliverCall(newCallId(), 'agent_m', ['call_started', 'call_ended']);
    await drained();
    const paused = await destination({ events: ['call_started'] });
    await sql`update forward_destinations set state = 'paused' where id = ${paused.id}`.execute(t.db);
    await deliverCall(newCallId(), 'agent_m', ['call_started']);
    await drained();
    p!.metrics.watchState(t.db, [], { cacheMs: 0 });
    const text = await p!.metrics.text();
    expect(text).toContain(
      `callsync_forward_attempts_total{destination="${d.id}",outcome="delivered",service="test"} 2`,
    );
    expect(text).toContain(`callsync_forward_attempts_total{destination="${d.id}",outcome="failed",service="test"} 1`);
    expect(text).toContain(`callsync_forward_pending{destination="${d.id}",service="test"} 0`);
    expect(text).toContain(`callsync_forward_held{destination="${paused.id}",service="test"} 1`);
    expect(text).toContain(`callsync_forward_breaker_state{destination="${d.id}",service="test"} 0`);
    expect(text).toContain(`callsync_forward_breaker_state{destination="${paused.id}",service="test"} 2`);
    const age = new RegExp(
      `callsync_forward_oldest_pending_seconds\\{destination="${paused.id}",service="test"\\} ([\\d.]+)`,
    ).exec(text);
    expect(Number(age![1])).toBeGreaterThan(0);
  });
});

describe('forwarding rate limit', () => {
  it('sends at most about the destination’s rate per second, and holds back nothing for good', async () => {
    const d = await destination({ events: ['call_started'], rateLimitPerSecond: 3 });
    await pipeline();
    const calls = Array.from({ length: 12 }, () => newCallId());
    const startedAt = Date.now();
    await Promise.all(calls.map((c) => deliverCall(c, 'agent_r', ['call_started'])));
    const rows = await drained(30_000);
    expect(rows.map((r) => r.status)).toEqual(Array(12).fill('delivered'));
    // No attempt was spent on waiting for the limit.
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    // The n-th send no sooner than n/3 s after the first could be admitted: 12 took at least 3.7 s.
    expect(
      sentTooEarly(
        d.receiver.received.map((m) => m.receivedAt),
        startedAt,
        3,
      ),
    ).toEqual([]);
  });
});

describe('forwarding: pause and resume racing an apply', () => {
  it('releases a delivery written as held just after a resume: the sweeper sends it', async () => {
    const d = await destination({ events: ['call_started'] });
    await sql`update forward_destinations set state = 'paused' where id = ${d.id}`.execute(t.db);
    const callId = newCallId();
    await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', callId), defaultHandlers);
    expect((await findDeliveriesOf(t.db, callId)).map((r) => r.status)).toEqual(['held']);
    // The resume committed first and released nothing: this delivery was not there yet.
    expect((await resumeDestination(t.db, d.id)).released).toBe(1);
    await sql`update forward_deliveries set status = 'held'`.execute(t.db);
    await pipeline();
    await sweepOverdueForwards(t.db, p!.forwardQueue!, createLogger({ silent: true }), { pendingAfterMs: 0 });
    const rows = await drained();
    expect(rows.map((r) => r.status)).toEqual(['delivered']);
    expect(d.receiver.received).toHaveLength(1);
  });
});
