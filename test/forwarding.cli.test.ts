import { randomUUID } from 'node:crypto';
import { type Db } from '@callsync/db';
import { findDeliveriesOf } from '@callsync/db/forward';
import { addCompany } from '@callsync/db/tenants';
import { defaultHandlers, processWebhookEvent } from '@callsync/domain';
import { ForwardReceiver } from '@callsync/fake-receiver';
import { createLogger } from '@callsync/logger';
import {
  createForwardQueue,
  createRedisConnection,
  ensureForwardJobs,
  type ForwardQueue,
  type RedisConnection,
} from '@callsync/queue';
import { waitUntil } from '@callsync/runtime';
import { createForwardWorker } from '@callsync/worker';
import { useTestDatabase, truncateAll } from './support/database';
import { LIFECYCLE, newCallId, storeEvent } from './support/calls';
import { cliEnvironment, serviceUrls } from './support/env';
import { TEST_KEYS } from './support/keys';
import { assertBuilt, CLI, deleteQueueKeys, run } from './support/processes';

/** `make destinations` and `make replay --destination`, as the operator runs them. */
const t = useTestDatabase();
const prefix = `{callsync-fwdcli-${randomUUID().slice(0, 8)}}`;
let receiver: ForwardReceiver;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  receiver = await new ForwardReceiver({ secrets: [] }).start();
});
afterEach(() => receiver.close());
afterAll(() => deleteQueueKeys(serviceUrls().redisUrl, prefix));

async function cli(...args: string[]): Promise<{ code: number | null; out: string }> {
  const proc = run(CLI, cliEnvironment(t.url, prefix), args);
  const code = await proc.exited;
  return { code, out: proc.output() };
}

/** Add the receiver as a destination through the CLI; its id and the secret it printed. */
async function addReceiver(...flags: string[]): Promise<{ id: string; secret: string }> {
  // The receiver listens on this machine over plain http: --allow-private.
  const { code, out } = await cli('destinations', 'add', receiver.url, '--allow-private', ...flags);
  expect({ code, out }).toMatchObject({ code: 0 });
  const id = /destination (\d+) added/.exec(out)![1]!;
  const secret = /(whsec_\S+)/.exec(out)![1]!;
  receiver.secrets = [secret];
  return { id, secret };
}

/** Apply a call's events as a worker would (the deliveries land in the outbox). */
async function applyCall(db: Db, callId: string): Promise<void> {
  for (const event of LIFECYCLE) await processWebhookEvent(db, await storeEvent(db, event, callId), defaultHandlers);
}

/** A forward worker on the CLI's prefix, as `make up` runs one. */
async function withForwarder<T>(fn: (queue: ForwardQueue) => Promise<T>): Promise<T> {
  const connection: RedisConnection = createRedisConnection({ url: serviceUrls().redisUrl });
  const queue = createForwardQueue(connection, prefix);
  const worker = createForwardWorker({
    db: t.db,
    keys: TEST_KEYS,
    connection,
    logger: createLogger({ silent: true }),
    prefix,
    forwardQueue: queue,
    concurrency: 4,
    timeoutMs: 15_000,
    retrySchedule: [100],
  });
  try {
    return await fn(queue);
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}

const allDelivered = (callId: string) =>
  waitUntil(
    async () => {
      const rows = await findDeliveriesOf(t.db, callId);
      return rows.length && rows.every((r) => r.status === 'delivered') ? rows : undefined;
    },
    { timeoutMs: 15_000 },
  );

describe('make destinations', () => {
  it('adds a destination, shows the secret once, lists it, and test sends a message the receiver verifies', async () => {
    const company = await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin');
    const { id, secret } = await addReceiver('--events', 'call_analyzed,call_ended', '--company', 'Praxis Weber');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);

    const list = await cli('destinations', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain(receiver.url);
    expect(list.out).toContain('call_analyzed,call_ended');
    expect(list.out).toMatch(new RegExp(`\\b${company.id}\\b`));
    expect(list.out).not.toContain(secret);

    const test = await cli('destinations', 'test', id);
    expect(test).toMatchObject({ code: 0 });
    expect(test.out).toMatch(/: 204 in \d+ ms/);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ verified: true, status: 204 });
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'callsync.test' });

    // After a rotation the receiver still verifies with the old secret (both sign), and with the new one.
    const rotated = await cli('destinations', 'rotate-secret', id);
    expect(rotated.code).toBe(0);
    const fresh = /(whsec_\S+)/.exec(rotated.out)![1]!;
    expect(fresh).not.toBe(secret);
    for (const secrets of [[secret], [fresh]]) {
      receiver.secrets = secrets;
      expect((await cli('destinations', 'test', id)).code).toBe(0);
    }
    expect(receiver.received.map((m) => m.verified)).toEqual([true, true, true]);
  });

  it('refuses bad settings with a message that names them', async () => {
    const cases: [string[], RegExp][] = [
      [['add', 'http://crm.example.com/hook', '--events', 'call_ended'], /plain http is refused outside development/],
      [['add', receiver.url, '--events', 'call_ended'], /plain http is refused outside development/],
      [['add', 'https://10.20.30.40/hook', '--events', 'call_ended'], /10\.0\.0\.0\/8\).*--allow-private/],
      [['add', 'https://[::ffff:192.168.0.7]/hook', '--events', 'call_ended'], /192\.168\.0\.0\/16/],
      [['add', 'https://169.254.169.254/latest', '--events', 'call_ended'], /link-local or cloud metadata/],
      [['add', receiver.url, '--allow-private', '--events', 'call_endd'], /events: unknown call_endd/],
      [['add', receiver.url], /missing --events/],
      [['add', receiver.url, '--events', 'call_ended', '--company', 'Nobody'], /unknown company "Nobody"/],
      [['add', receiver.url, '--events', 'call_ended', '--mode', 'full'], /--mode: "full" is not raw or session/],
      [['pause', '99'], /no destination 99/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('destinations', ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.out).toMatch(message);
    }
    expect(await t.db.selectFrom('forward_destinations').selectAll().execute()).toHaveLength(0);
  });

  it('pause holds deliveries, resume sends them in order, remove cancels the rest', async () => {
    const { id } = await addReceiver('--events', LIFECYCLE.join(','));
    const pause = await cli('destinations', 'pause', id);
    expect(pause.code).toBe(0);
    const callId = newCallId();
    await applyCall(t.db, callId);
    expect((await findDeliveriesOf(t.db, callId)).map((r) => r.status)).toEqual(['held', 'held', 'held']);

    await withForwarder(async () => {
      const resume = await cli('destinations', 'resume', id);
      expect(resume).toMatchObject({ code: 0 });
      expect(resume.out).toContain('3 held deliveries released');
      await allDelivered(callId);
    });
    expect(receiver.received.map((m) => (JSON.parse(m.body) as { event: string }).event)).toEqual(LIFECYCLE);

    const other = newCallId();
    await applyCall(t.db, other);
    const removed = await cli('destinations', 'remove', id);
    expect(removed.out).toContain('3 unsent deliveries cancelled');
    expect((await findDeliveriesOf(t.db, other)).map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // Removed: nothing new is queued for it.
    await applyCall(t.db, newCallId());
    expect(await t.db.selectFrom('forward_deliveries').selectAll().execute()).toHaveLength(6);
  });

  it('gives up on a destination row someone else holds, with a clear error, instead of waiting behind it', async () => {
    const { id } = await addReceiver('--events', 'call_ended');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    // A long transaction (an apply, a migration, a psql session) holds the destination's row.
    const holder = t.db.transaction().execute(async (trx) => {
      await trx.selectFrom('forward_destinations').select('id').where('id', '=', id).forUpdate().execute();
      held();
      await released;
    });
    await isHeld;
    try {
      const pause = await cli('destinations', 'pause', id);
      expect(pause.code).not.toBe(0);
      expect(pause.out).toMatch(/lock timeout/);
    } finally {
      release();
      await holder;
    }
    expect((await cli('destinations', 'pause', id)).code).toBe(0);
  });
});

describe('make replay --destination', () => {
  it('sends the deliveries of the window again with the same webhook-id', async () => {
    const { id } = await addReceiver('--events', 'call_ended');
    const callId = newCallId();
    await applyCall(t.db, callId);
    await withForwarder(async (queue) => {
      const [head] = await findDeliveriesOf(t.db, callId);
      await ensureForwardJobs(queue, [head!]);
      await allDelivered(callId);
      expect(receiver.received).toHaveLength(1);

      const dry = await cli('replay', '--destination', id, '--since', '1h', '--dry-run');
      expect(dry.out).toMatch(/1 delivery to send again/);
      expect(receiver.received).toHaveLength(1);

      const replay = await cli('replay', '--destination', id, '--since', '1h');
      expect(replay).toMatchObject({ code: 0 });
      await waitUntil(async () => (receiver.received.length === 2 ? true : undefined), { timeoutMs: 15_000 });
      await allDelivered(callId);
    });
    const [first, second] = receiver.received;
    expect(second).toMatchObject({ id: first!.id, verified: true, body: first!.body });
    const [row] = await findDeliveriesOf(t.db, callId);
    expect(row).toMatchObject({ status: 'delivered', replay_count: 1 });

    const unknown = await cli('replay', '--destination', '42');
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toContain('no destination 42');
  });
});
