import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Worker } from 'bullmq';
import {
  claimDelivery,
  findDeliveriesOf,
  findDestination,
  pauseDestination,
  recordAttempt,
  resumeDestination,
  type ForwardDelivery,
} from '@callsync/db/forward';
import { defaultHandlers, processWebhookEvent, type DestinationInput } from '@callsync/domain';
import { ForwardReceiver, type ReceiverAnswer } from '@callsync/fake-receiver';
import { createLogger } from '@callsync/logger';
import {
  createForwardQueue,
  createRedisConnection,
  enqueueForwards,
  forwardJobId,
  type ForwardQueue,
  type RedisConnection,
} from '@callsync/queue';
import { waitUntil } from '@callsync/runtime';
import { createForwardWorker, handOff } from '@callsync/worker';
import { receivingDestination } from './support/destinations';
import { sentTooEarly } from './support/pacing';
import { useTestDatabase, truncateAll } from './support/database';
import { LIFECYCLE, newCallId, storeEvent } from './support/calls';
import { serviceUrls } from './support/env';
import { TEST_KEYS } from './support/keys';
import { deleteQueueKeys } from './support/processes';
import { queueIdle } from './support/queue-idle';

/*
 * Forwarding that is fair and heals itself (issue 28): per-destination limits checked before any
 * claim, a breaker that closes on its own, retries like the Standard Webhooks senders', and a chain
 * hand-off without a race. Real Postgres, Redis and BullMQ; a forward worker of the test's own.
 */
const t = useTestDatabase();
const prefix = `{callsync-heal-${randomUUID().slice(0, 8)}}`;
const receivers: ForwardReceiver[] = [];
let connection: RedisConnection;
let queue: ForwardQueue;
let worker: ReturnType<typeof createForwardWorker> | undefined;
let queueName: string;

beforeAll(() => {
  connection = createRedisConnection({ url: serviceUrls().redisUrl });
});
beforeEach(async () => {
  await truncateAll(t.db);
  queueName = `fwd-heal-${randomUUID().slice(0, 8)}`;
  queue = createForwardQueue(connection, prefix, queueName);
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queue.obliterate({ force: true });
  await queue.close();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  connection.disconnect();
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
});

function startWorker(
  o: {
    concurrency?: number;
    retrySchedule?: number[];
    breakerCooldownMs?: number;
    leaseMs?: number;
    timeoutMs?: number;
  } = {},
) {
  worker = createForwardWorker({
    db: t.db,
    keys: TEST_KEYS,
    connection,
    logger: createLogger({ silent: true }),
    prefix,
    forwardQueue: queue,
    queueName,
    concurrency: o.concurrency ?? 8,
    timeoutMs: o.timeoutMs ?? 5000,
    retrySchedule: o.retrySchedule ?? [50, 50, 50, 50, 50, 50, 50, 50],
    breakerCooldownMs: o.breakerCooldownMs ?? 200,
    settingsCacheMs: 0,
    leaseMs: o.leaseMs,
  });
}

async function destination(
  input: Omit<DestinationInput, 'url'>,
  respond?: (m: ForwardReceiver['received'][number]) => ReceiverAnswer,
) {
  const d = await receivingDestination(t.db, input, respond);
  receivers.push(d.receiver);
  return d;
}

/** Apply a call's events as the webhook worker does, and give the new chain heads their jobs. */
async function applyCall(callId: string, events: readonly string[] = LIFECYCLE): Promise<void> {
  for (const event of events) {
    const outcome = await processWebhookEvent(t.db, await storeEvent(t.db, event as never, callId), defaultHandlers);
    if (outcome.outcome === 'processed') await enqueueForwards(queue, outcome.forwards);
  }
}

const deliveriesTo = (destinationId: string): Promise<ForwardDelivery[]> =>
  t.db.selectFrom('forward_deliveries').selectAll().where('destination_id', '=', destinationId).orderBy('id').execute();

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const v = await waitUntil(fn, { timeoutMs, intervalMs: 25 });
  if (v === undefined) throw new Error(`timed out waiting for ${what}`);
  return v;
}

const allDelivered = (destinationId: string, n: number) =>
  until(`${n} deliveries to ${destinationId} delivered`, async () => {
    const rows = await deliveriesTo(destinationId);
    return rows.length === n && rows.every((r) => r.status === 'delivered') ? rows : undefined;
  });

describe('fairness: limits before any claim', () => {
  it('a rate-limited destination’s backlog waits in BullMQ: about one claim per send, not a claim per try', async () => {
    const d = await destination({ events: ['call_started'], rateLimitPerSecond: 4 });
    const calls = Array.from({ length: 12 }, () => newCallId());
    for (const c of calls) await applyCall(c, ['call_started']);
    const startedAt = Date.now();
    startWorker();
    const rows = await allDelivered(d.id, 12);
    const claims = rows.reduce((n, r) => n + r.claims, 0);
    const sends = rows.reduce((n, r) => n + r.attempts, 0);
    expect(sends).toBe(12);
    // Before the fix each try claimed the row (reading its body) and released it again.
    expect(claims / sends).toBeLessThanOrEqual(1.2);
    // And the rate held: the n-th send no sooner than n/4 s after the worker started.
    expect(
      sentTooEarly(
        d.receiver.received.map((m) => m.receivedAt),
        startedAt,
        4,
      ),
    ).toEqual([]);
  });

  it('a slow destination holds only its own slots: another destination’s deliveries go past it', async () => {
    // The slow receiver answers only when the test lets it: no timer decides the outcome.
    let answerSlow!: () => void;
    const slowAnswers = new Promise<void>((r) => (answerSlow = r));
    const slow = await destination({ events: ['call_started'], maxInFlight: 2 }, () => ({
      status: 204,
      until: slowAnswers,
    }));
    const fast = await destination({ events: ['call_ended'] });
    const calls = Array.from({ length: 10 }, () => newCallId());
    // The slow destination's jobs are queued first, all of them, then the fast one's.
    for (const c of calls) await applyCall(c, ['call_started']);
    for (const c of calls.slice(0, 6)) await applyCall(c, ['call_ended']);
    startWorker({ concurrency: 4, timeoutMs: 60_000 });
    try {
      // Before the fix the slow one took every worker slot, and the fast deliveries waited for its answers.
      await allDelivered(fast.id, 6);
      expect(slow.receiver.received.length).toBeLessThanOrEqual(2);
      expect((await deliveriesTo(slow.id)).filter((r) => r.status === 'delivered')).toHaveLength(0);
    } finally {
      answerSlow();
    }
    await allDelivered(slow.id, 10);
    expect(slow.receiver.maxInFlight).toBeLessThanOrEqual(2);
    expect((await deliveriesTo(slow.id)).every((r) => r.attempts === 1)).toBe(true);
  });

  it('a destination with a backlog does not put another’s new deliveries behind all of it: each gets its turn', async () => {
    const busy = await destination({ events: ['call_started'], maxInFlight: 50 });
    const quiet = await destination({ events: ['call_ended'], maxInFlight: 50 });
    const calls = Array.from({ length: 60 }, () => newCallId());
    // 60 queued for the busy one first (a breaker's released backlog, a burst after an outage), then 5 for the quiet one.
    for (const c of calls) await applyCall(c, ['call_started']);
    for (const c of calls.slice(0, 5)) await applyCall(c, ['call_ended']);
    // One job at a time: the order of the sends is the queue's order.
    startWorker({ concurrency: 1 });
    await allDelivered(quiet.id, 5);
    await allDelivered(busy.id, 60);
    const order = [...busy.receiver.received, ...quiet.receiver.received]
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .map((m) => (quiet.receiver.received.includes(m) ? 'quiet' : 'busy'));
    // Before: first come, first served, so the quiet one's five went after all 60 (places 61-65).
    // Now turn by turn: busy, quiet, busy, quiet... its fifth by the tenth send (a little slack for the clock).
    expect(order.lastIndexOf('quiet')).toBeLessThan(12);
  });

  it('a job added again under its id (the sweeper racing the apply) keeps one place in the line', async () => {
    const d = await destination({ events: ['call_started'] });
    const callId = newCallId();
    await applyCall(callId, ['call_started']);
    const [delivery] = await findDeliveriesOf(t.db, callId);
    const head = { id: delivery!.id, destination_id: d.id, subject: callId, event_type: 'call_started' };
    // The same job id again, as the sweeper or a redelivered apply does: BullMQ adds nothing.
    await enqueueForwards(queue, [head]);
    await enqueueForwards(queue, [head]);
    const next = newCallId();
    await applyCall(next, ['call_started']);
    const [second] = await findDeliveriesOf(t.db, next);
    // Before, each add counted: the next delivery was given the 4th place in a line of two.
    expect((await queue.getJob(forwardJobId(second!.id)))?.priority).toBe(2);
  });

  it('a destination whose line emptied starts again at the front', async () => {
    const d = await destination({ events: ['call_started'] });
    for (let i = 0; i < 10; i++) await applyCall(newCallId(), ['call_started']);
    const queued = await queue.getJobs(['prioritized', 'waiting']);
    expect(queued.map((j) => j.priority).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    startWorker();
    await allDelivered(d.id, 10);
    // Its count goes once every job left the queue (gathered, then sent: wait for it).
    await until('the destination’s count gone', async () =>
      (await connection.exists(queue.toKey(`turns:${d.id}`))) === 0 ? true : undefined,
    );
    const callId = newCallId();
    await applyCall(callId, ['call_started']);
    const [next] = await findDeliveriesOf(t.db, callId);
    expect((await queue.getJob(forwardJobId(next!.id)))?.priority).toBe(1);
  });

  it('a destination gets its limit’s worth of sends at once, not one at a time', async () => {
    // The receiver answers nothing until it holds four requests at once: a sender that went one (or
    // three) at a time would never get an answer, and the test times out.
    let answerAll!: () => void;
    const fourAtOnce = new Promise<void>((r) => (answerAll = r));
    const d = await destination({ events: ['call_started'], maxInFlight: 4 }, () => {
      if (d.receiver.inFlight >= 4) answerAll();
      return { status: 204, until: fourAtOnce };
    });
    for (let i = 0; i < 12; i++) await applyCall(newCallId(), ['call_started']);
    startWorker({ concurrency: 16, timeoutMs: 60_000 });
    await allDelivered(d.id, 12);
    expect(d.receiver.maxInFlight).toBe(4);
  });

  it('a slot counts the exchange with the receiver, not the claim: a claim stuck on a lock holds no slot', async () => {
    const d = await destination({ events: ['call_started'], maxInFlight: 1 });
    const [first, second] = [newCallId(), newCallId()];
    await applyCall(first, ['call_started']);
    const [stuck] = await deliveriesTo(d.id);
    // Hold the first delivery's row, as a slow Postgres would: its claim waits on the lock.
    let unlock!: () => void;
    const unlocked = new Promise<void>((r) => (unlock = r));
    const locker = t.db.transaction().execute(async (trx) => {
      await sql`select 1 from forward_deliveries where id = ${stuck!.id} for update`.execute(trx);
      await unlocked;
    });
    try {
      startWorker();
      await until('the first claim waiting on the row lock', async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(t.db);
        return rows[0]!.n > 0 ? true : undefined;
      });
      await applyCall(second, ['call_started']);
      // Before the fix the first job took the only slot before its claim, and the second waited for the lock.
      await until('the second call’s delivery sent', async () => (d.receiver.received.length === 1 ? true : undefined));
      expect(d.receiver.received[0]!.body).toContain(second);
    } finally {
      unlock();
      await locker;
    }
    await allDelivered(d.id, 2);
    expect(d.receiver.maxInFlight).toBe(1);
  });

  it('the in-flight limit holds when Redis loses the gate’s record: what is leased in Postgres counts', async () => {
    let answerSlow!: () => void;
    const slowAnswers = new Promise<void>((r) => (answerSlow = r));
    const slow = await destination({ events: ['call_started'], maxInFlight: 2 }, () => ({
      status: 204,
      until: slowAnswers,
    }));
    for (let i = 0; i < 6; i++) await applyCall(newCallId(), ['call_started']);
    // Leases far shorter than the receiver's answer, as in production (5 s against up to the timeout):
    // renewed while the sends hang, they say the senders are alive, not when the sends end.
    const leaseMs = 1000;
    startWorker({ concurrency: 8, leaseMs, timeoutMs: 60_000 });
    try {
      await until('two sends in flight', async () => (slow.receiver.inFlight === 2 ? true : undefined));
      // As a Redis restart without persistence does: the gate forgets the destination, its jobs stay.
      const base = `${prefix}:fwd-gate:${slow.id}`;
      await connection.del(base, `${base}:inflight`, `${base}:res`);
      // The other four come back and ask the gate again, while the two sends hang past their first leases.
      await new Promise((r) => setTimeout(r, 3 * leaseMs));
      // Before the fix the gate saw nothing in flight and let two more go while the first two hung; and
      // with short leases, it counted the two only until their leases' end, then let more go.
      expect(slow.receiver.received).toHaveLength(2);
    } finally {
      answerSlow();
    }
    await allDelivered(slow.id, 6);
    expect(slow.receiver.maxInFlight).toBe(2);
  });
});

describe('a breaker that closes itself', () => {
  it('opens after N failures, holds all but one probe, and the probe closes it once the receiver is back: drained in order', async () => {
    let up = false;
    const d = await destination({ events: [...LIFECYCLE], breakerThreshold: 3 }, (m) => (up && m.verified ? 204 : 500));
    const calls = [newCallId(), newCallId(), newCallId()];
    for (const c of calls) await applyCall(c);
    startWorker({ breakerCooldownMs: 300 });
    const opened = await until('the breaker to open', async () => {
      const dest = await findDestination(t.db, d.id);
      return dest?.paused_by === 'breaker' ? dest : undefined;
    });
    expect(opened.paused_reason).toMatch(/^circuit breaker: 3 consecutive failures/);
    const rows = await until('every delivery held but the probe', async () => {
      const r = await deliveriesTo(d.id);
      return r.filter((x) => x.status === 'pending').length === 1 && r.every((x) => x.lease_until === null)
        ? r
        : undefined;
    });
    expect(rows.find((r) => r.status === 'pending')!.id).toBe((await findDestination(t.db, d.id))!.probe_delivery_id);
    up = true;
    // No resume: the probe succeeds and closes it.
    await allDelivered(d.id, 9);
    const closed = (await findDestination(t.db, d.id))!;
    expect(closed).toMatchObject({ state: 'active', paused_by: null, breaker_opens: 0, probe_delivery_id: null });
    for (const c of calls) {
      const arrived = d.receiver.received
        .filter((m) => m.status === 204 && m.body.includes(c))
        .map((m) => (JSON.parse(m.body) as { event: string }).event);
      expect(arrived).toEqual(LIFECYCLE);
    }
  });

  it('the probe waits at the front of its line: when it is due, it goes before every other destination’s turn', async () => {
    let answered = 0;
    // 2xx to the first 29, then two failures: the breaker opens on the 31st delivery, far back in its line.
    const flaky = await destination({ events: ['call_started'], breakerThreshold: 2 }, () =>
      ++answered <= 29 || answered > 31 ? 204 : 500,
    );
    for (let i = 0; i < 40; i++) await applyCall(newCallId(), ['call_started']);
    startWorker({ concurrency: 1, retrySchedule: [50], breakerCooldownMs: 60_000 });
    const opened = await until('the breaker to open', async () => {
      const dest = await findDestination(t.db, flaky.id);
      return dest?.paused_by === 'breaker' && dest.probe_delivery_id ? dest : undefined;
    });
    const probeJob = await until('the probe’s job waiting for its time', async () => {
      const job = await queue.getJob(forwardJobId(opened.probe_delivery_id!));
      return job && (await job.getState()) === 'delayed' ? job : undefined;
    });
    // Before: it kept its place in the line (31st): when due, it waited behind the first 30 turns of
    // every destination with deliveries queued meanwhile, and the breaker stayed open for minutes
    // after its receiver was back (make chaos). Now it is first.
    expect(probeJob.priority).toBe(1);
  });

  it('a failed probe re-opens it with a longer cool-down, sending one probe at a time', async () => {
    const d = await destination({ events: ['call_started'], breakerThreshold: 2 }, () => 503);
    for (let i = 0; i < 4; i++) await applyCall(newCallId(), ['call_started']);
    startWorker({ breakerCooldownMs: 100 });
    const reopened = await until('two failed probes', async () => {
      const dest = await findDestination(t.db, d.id);
      return dest && dest.breaker_opens >= 3 ? dest : undefined;
    });
    expect(reopened.paused_reason).toMatch(/probe failed/);
    // Each probe went to the one probe delivery (its first try and two probes at least); the others
    // were not tried again once it was open (a retry claimed just before it opened may have gone out).
    const rows = await deliveriesTo(d.id);
    expect(rows.filter((r) => r.attempts >= 3).map((r) => r.id)).toEqual([reopened.probe_delivery_id]);
    expect(rows.filter((r) => r.id !== reopened.probe_delivery_id).every((r) => r.status === 'held')).toBe(true);
    // (How the cool-down grows with each opening is the pure policy's, unit-tested in breaker.test.ts.)
  });

  it('an operator’s pause stays until resume: no probe ends it', async () => {
    const d = await destination({ events: ['call_started'], breakerThreshold: 1 });
    await pauseDestination(t.db, d.id, 'maintenance');
    await applyCall(newCallId(), ['call_started']);
    // A probe time in the past would have let the breaker probe; an operator's pause has none.
    await sql`update forward_destinations set probe_at = now() - interval '1 minute'`.execute(t.db);
    startWorker({ breakerCooldownMs: 50 });
    const { sweepOverdueForwards } = await import('@callsync/worker');
    await sweepOverdueForwards(t.db, queue, createLogger({ silent: true }), { pendingAfterMs: 0 });
    // The sweeper gave the delivery a job; the worker ran it and held the delivery instead of probing.
    await queueIdle(queue);
    expect(d.receiver.received).toHaveLength(0);
    expect(await findDestination(t.db, d.id)).toMatchObject({ state: 'paused', paused_by: 'operator' });
    const { heads } = await resumeDestination(t.db, d.id);
    await enqueueForwards(queue, heads);
    await allDelivered(d.id, 1);
  });
});

describe('retries like the standard’s', () => {
  it('retries a 401 (a key rotation on the receiver’s side), a 404 (its deploy) and a 3xx, then delivers', async () => {
    const answers: ReceiverAnswer[] = [401, 404, 302, 204];
    const d = await destination({ events: ['call_started'] }, () => answers.shift() ?? 204);
    await applyCall(newCallId(), ['call_started']);
    startWorker();
    const [row] = await allDelivered(d.id, 1);
    expect(row!.attempts).toBe(4);
    expect(d.receiver.received.map((m) => m.status)).toEqual([401, 404, 302, 204]);
  });

  it('410 fails the delivery and pauses the destination with a reason, until resume', async () => {
    const d = await destination({ events: [...LIFECYCLE] }, (m) =>
      m.body.includes('"call_started"') ? { status: 410, body: 'endpoint deleted' } : 204,
    );
    const callId = newCallId();
    await applyCall(callId);
    startWorker({ breakerCooldownMs: 50 });
    const dest = await until('the 410 pause', async () => {
      const x = await findDestination(t.db, d.id);
      const rows = await deliveriesTo(d.id);
      // The rest are held in batches after the 410 is recorded, or by their own claim.
      return x?.state === 'paused' && rows.every((r) => r.status !== 'pending') ? x : undefined;
    });
    expect(dest).toMatchObject({ paused_by: 'gone', paused_reason: expect.stringMatching(/410 Gone/) });
    const rows = await deliveriesTo(d.id);
    expect(rows.map((r) => [r.event_type, r.status, r.last_status_code])).toEqual([
      ['call_started', 'failed', 410],
      ['call_ended', 'held', null],
      ['call_analyzed', 'held', null],
    ]);
    await queueIdle(queue);
    expect(d.receiver.received).toHaveLength(1);
  });

  it('with fail_4xx a 4xx fails at once and the call goes on; 429 is still retried', async () => {
    const answers: ReceiverAnswer[] = [429, 400];
    const d = await destination(
      { events: ['call_started', 'call_ended'], fail4xx: true },
      () => answers.shift() ?? 204,
    );
    const callId = newCallId();
    await applyCall(callId, ['call_started', 'call_ended']);
    startWorker();
    const rows = await until('both finished', async () => {
      const r = await deliveriesTo(d.id);
      return r.length === 2 && r.every((x) => x.status !== 'pending') ? r : undefined;
    });
    expect(rows.map((r) => [r.event_type, r.status, r.attempts, r.last_status_code])).toEqual([
      ['call_started', 'failed', 2, 400],
      ['call_ended', 'delivered', 1, 204],
    ]);
  });
});

describe('bounded statements', () => {
  it('a breaker opening commits although a pending delivery of its destination is locked; the hold skips it', async () => {
    const d = await destination({ events: ['call_started'], breakerThreshold: 1 });
    for (let i = 0; i < 5; i++) await applyCall(newCallId(), ['call_started']);
    const [first, second] = await deliveriesTo(d.id);
    const claim = await claimDelivery(t.db, first!.id, 10_000);
    expect(claim.kind).toBe('send');
    // Someone holds a row lock on another pending delivery for as long as this test wants.
    let unlock!: () => void;
    const locked = new Promise<void>((r) => (unlock = r));
    let lockTaken!: () => void;
    const taken = new Promise<void>((r) => (lockTaken = r));
    const holder = t.db.transaction().execute(async (trx) => {
      await sql`select 1 from forward_deliveries where id = ${second!.id} for update`.execute(trx);
      lockTaken();
      await locked;
    });
    await taken;
    try {
      const recorded = await recordAttempt(
        t.db,
        {
          deliveryId: first!.id,
          attempt: 1,
          statusCode: 500,
          latencyMs: 5,
          error: 'answered 500',
          responseExcerpt: null,
          result: { kind: 'retry', at: new Date(Date.now() + 60_000) },
        },
        () => ({ kind: 'open', probeInMs: 60_000, reason: 'circuit breaker: test' }),
      );
      expect(recorded.breaker).toBe('open');
      const { holdPendingDeliveries } = await import('@callsync/db/forward');
      // In batches of 2 here; the locked row is skipped, not waited for.
      expect(await holdPendingDeliveries(t.db, d.id, 2)).toBe(3);
      const statuses = (await deliveriesTo(d.id)).map((r) => r.status);
      expect(statuses).toEqual(['pending', 'pending', 'held', 'held', 'held']);
    } finally {
      unlock();
      await holder;
    }
  });
});

describe('bounded statements from the CLI', () => {
  it('pause and remove return although a delivery of the destination is locked by a long transaction', async () => {
    const d = await destination({ events: ['call_started'] });
    for (let i = 0; i < 3; i++) await applyCall(newCallId(), ['call_started']);
    const [first] = await deliveriesTo(d.id);
    let unlock!: () => void;
    const locked = new Promise<void>((r) => (unlock = r));
    let lockTaken!: () => void;
    const taken = new Promise<void>((r) => (lockTaken = r));
    const holder = t.db.transaction().execute(async (trx) => {
      await sql`select 1 from forward_deliveries where id = ${first!.id} for update`.execute(trx);
      lockTaken();
      await locked;
    });
    await taken;
    try {
      // Before the fix both waited for the lock as long as it was held (no timeout, one transaction).
      expect(await pauseDestination(t.db, d.id, 'by hand')).toBe(2);
      const { removeDestination } = await import('@callsync/db/forward');
      expect(await removeDestination(t.db, d.id)).toBe(2);
    } finally {
      unlock();
      await holder;
    }
    // The skipped one is cancelled by its own claim.
    expect((await claimDelivery(t.db, first!.id, 1000)).kind).toBe('cancelled');
  });
});

describe('chain hand-off', () => {
  it('enqueues the next head even when its job is still finishing a run that found the chain busy', async () => {
    const d = await destination({ events: [...LIFECYCLE] });
    const callId = newCallId();
    for (const event of LIFECYCLE)
      await processWebhookEvent(t.db, await storeEvent(t.db, event, callId), defaultHandlers);
    const [a, b] = await findDeliveriesOf(t.db, callId);
    // b's job is taken by a worker (active) whose claim finds a still in flight: "waiting".
    await queue.add('call_ended', { deliveryId: b!.id, destinationId: d.id }, { jobId: forwardJobId(b!.id) });
    const manual = new Worker(queueName, null, { connection, prefix });
    const token = 'manual';
    const active = (await manual.getNextJob(token))!;
    expect(active.id).toBe(forwardJobId(b!.id));
    expect((await claimDelivery(t.db, a!.id, 10_000)).kind).toBe('send');
    expect((await claimDelivery(t.db, b!.id, 10_000)).kind).toBe('waiting');
    // Meanwhile a is delivered and hands the chain on, before b's job has completed.
    const recorded = await recordAttempt(
      t.db,
      {
        deliveryId: a!.id,
        attempt: 1,
        statusCode: 204,
        latencyMs: 5,
        error: null,
        responseExcerpt: null,
        result: { kind: 'delivered' },
      },
      () => ({ kind: 'keep' }),
    );
    expect(recorded.next?.id).toBe(b!.id);
    await handOff(queue, { id: a!.id, generation: 0 }, recorded.next!);
    // Now b's job completes (its run said "waiting") and is removed.
    await active.moveToCompleted('waiting', token, false);
    await manual.close();
    // Before the fix the hand-off re-added fwd-<b>, which still existed: nothing was left to send b.
    startWorker();
    const rows = await until('b and c delivered', async () => {
      const r = await findDeliveriesOf(t.db, callId);
      return r[1]?.status === 'delivered' && r[2]?.status === 'delivered' ? r : undefined;
    });
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(d.receiver.received.map((m) => (JSON.parse(m.body) as { event: string }).event)).toEqual([
      'call_ended',
      'call_analyzed',
    ]);
  });
});
