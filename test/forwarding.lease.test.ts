import { sql } from 'kysely';
import { claimDelivery, extendLease, findDeliveriesOf, recordAttempt } from '@callsync/db/forward';
import { defaultHandlers, forwardDelivery, processWebhookEvent, SEND_LEASE_MS } from '@callsync/domain';
import type { ForwardReceiver } from '@callsync/fake-receiver';
import { waitUntil } from '@callsync/runtime';
import { receivingDestination } from './support/destinations';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId, storeEvent } from './support/calls';
import { TEST_KEYS } from './support/keys';

/**
 * A sender's lease on a delivery (issue 28): `make chaos` kills workers with deliveries in hand, and
 * a lease as long as the attempt's timeout (plus 10 s) held each of them 20 s and more. The lease is
 * now short and kept alive while its sender works, so a dead sender's delivery goes again soon, and a
 * live sender's long send is never taken over.
 */
const t = useTestDatabase();
const receivers: ForwardReceiver[] = [];
afterAll(() => Promise.all(receivers.map((r) => r.close())));
beforeEach(() => truncateAll(t.db));

/** A delivery whose receiver answers 204 when `answer` settles (at once without one). */
async function heldDelivery(answer?: Promise<unknown>): Promise<{ id: string; receiver: ForwardReceiver }> {
  const d = await receivingDestination(t.db, { events: ['call_started'] }, () => ({ status: 204, until: answer }));
  receivers.push(d.receiver);
  const callId = newCallId();
  await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', callId), defaultHandlers);
  const [delivery] = await findDeliveriesOf(t.db, callId);
  return { id: delivery!.id, receiver: d.receiver };
}

/** A promise the test settles: the receiver holds its answer until then. */
function hold(): { answer: Promise<void>; release: () => void } {
  let release!: () => void;
  const answer = new Promise<void>((r) => (release = r));
  return { answer, release };
}

/** How far ahead the delivery's lease runs, ms (null: not leased). */
async function leaseAhead(id: string): Promise<number | null> {
  const { rows } = await sql<{ ahead: number | null }>`
    select (extract(epoch from lease_until - now()) * 1000)::int as ahead from forward_deliveries where id = ${id}`.execute(
    t.db,
  );
  return rows[0]!.ahead;
}

it('a delivery in flight is leased for SEND_LEASE_MS, not for its whole timeout', async () => {
  const held = hold();
  const { id, receiver } = await heldDelivery(held.answer);
  const sending = forwardDelivery(t.db, TEST_KEYS, id, { timeoutMs: 30_000 });
  await waitUntil(async () => (receiver.received.length > 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });

  const ahead = await leaseAhead(id);
  held.release();
  // Before: the timeout + 10 s (20,000 ms), which a killed sender's delivery waited out.
  expect(ahead).not.toBeNull();
  expect(ahead!).toBeLessThanOrEqual(SEND_LEASE_MS);
  expect((await sending).kind).toBe('delivered');
  expect(await leaseAhead(id)).toBeNull();
});

it('the lease is kept alive while the receiver takes longer than it: a second sender does not send again', async () => {
  const leaseMs = 1_500;
  const held = hold();
  const { id, receiver } = await heldDelivery(held.answer);
  const first = forwardDelivery(t.db, TEST_KEYS, id, { timeoutMs: 30_000, leaseMs });
  await waitUntil(async () => (receiver.received.length > 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
  // Well past the first lease, the receiver still answering: without renewal, the delivery would be free to claim now.
  await new Promise((r) => setTimeout(r, 3 * leaseMs));

  const second = await forwardDelivery(t.db, TEST_KEYS, id, { timeoutMs: 30_000, leaseMs });
  held.release();

  expect(second.kind).toBe('later');
  expect((await first).kind).toBe('delivered');
  expect(receiver.received).toHaveLength(1);
});

it('a lease nobody keeps alive (its sender died) lapses: the next sender sends it', async () => {
  const { id, receiver } = await heldDelivery();
  // A sender that claimed it and died: leased, never renewed, never recorded.
  await t.db
    .updateTable('forward_deliveries')
    .set({ attempts: 1, lease_until: sql<Date>`now() + interval '1 hour'` })
    .where('id', '=', id)
    .execute();
  expect((await forwardDelivery(t.db, TEST_KEYS, id)).kind).toBe('later');
  // Its lease runs out.
  await t.db
    .updateTable('forward_deliveries')
    .set({ lease_until: sql<Date>`now() - interval '1 millisecond'` })
    .where('id', '=', id)
    .execute();

  const again = await forwardDelivery(t.db, TEST_KEYS, id);

  expect(again.kind).toBe('delivered');
  expect(receiver.received).toHaveLength(1);
});

it('a sender whose lease lapsed and was claimed by another neither extends it nor records over that claim', async () => {
  const { id } = await heldDelivery();
  // Sender A claims with a short lease; its renewals stall (a busy pool, a frozen process) and it lapses.
  const a = await claimDelivery(t.db, id, 200);
  expect(a.kind).toBe('send');
  await waitUntil(async () => ((await leaseAhead(id))! <= 0 ? true : undefined), { timeoutMs: 5_000, intervalMs: 50 });
  const b = await claimDelivery(t.db, id, 10_000);
  expect(b.kind).toBe('send');
  const attemptA = a.kind === 'send' ? a.delivery.attempts : 0;
  const attemptB = b.kind === 'send' ? b.delivery.attempts : 0;

  // A's late renewal and its answer (a 500) leave B's claim alone.
  expect(await extendLease(t.db, id, attemptA, 10_000)).toBe(false);
  const failed = {
    deliveryId: id,
    statusCode: 500,
    latencyMs: 5,
    error: 'answered 500',
    responseExcerpt: null,
    result: { kind: 'retry' as const, at: new Date(Date.now() + 60_000) },
  };
  await recordAttempt(t.db, { ...failed, attempt: attemptA }, () => ({ kind: 'keep' }));
  const [during] = await findDeliveriesOf(
    t.db,
    (await t.db.selectFrom('forward_deliveries').select('subject').where('id', '=', id).executeTakeFirstOrThrow())
      .subject,
  );
  // Before: A's record set the lease to null and the next attempt an hour away while B was sending.
  expect(during!.status).toBe('pending');
  expect(during!.lease_until).not.toBeNull();
  expect(await leaseAhead(id)).toBeGreaterThan(5_000);

  // B's own renewal and answer are recorded.
  expect(await extendLease(t.db, id, attemptB, 10_000)).toBe(true);
  await recordAttempt(
    t.db,
    { ...failed, attempt: attemptB, statusCode: 204, error: null, result: { kind: 'delivered' } },
    () => ({ kind: 'keep' }),
  );
  const [after] = await findDeliveriesOf(t.db, during!.subject);
  expect(after!.status).toBe('delivered');
  // Both answers are in the delivery's history.
  const attempts = await t.db
    .selectFrom('forward_attempts')
    .select('status_code')
    .where('delivery_id', '=', id)
    .orderBy('id')
    .execute();
  expect(attempts.map((x) => x.status_code)).toEqual([500, 204]);
});
