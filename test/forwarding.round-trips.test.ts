import { type Db } from '@callsync/db';
import { findDeliveriesOf } from '@callsync/db/forward';
import { defaultHandlers, forwardDelivery, processWebhookEvent } from '@callsync/domain';
import type { ForwardReceiver } from '@callsync/fake-receiver';
import { probedDb, type PoolProbe } from '@callsync/testkit';
import { receivingDestination } from './support/destinations';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId, storeEvent } from './support/calls';
import { TEST_KEYS } from './support/keys';

/**
 * The Postgres round trips one delivery costs its sender (issue 28: under `make chaos` the healthy
 * destination's deliveries fell behind while the machine was busy, each send paying for 8 statements:
 * the claim, the destination, and a transaction of 6 to record a 2xx). The sender reads through a
 * pool that counts every statement pg sends, BEGIN and COMMIT included.
 */
const t = useTestDatabase();
let sender: { db: Db; probe: PoolProbe };
const receivers: ForwardReceiver[] = [];

beforeAll(() => {
  sender = probedDb(t.url, 2, 'forward-round-trips-test');
});
afterAll(async () => {
  await sender.db.destroy();
  await Promise.all(receivers.map((r) => r.close()));
});
beforeEach(() => truncateAll(t.db));

async function applied(callId: string, event: 'call_started' | 'call_ended'): Promise<void> {
  await processWebhookEvent(t.db, await storeEvent(t.db, event, callId), defaultHandlers);
}

it('a delivery answered 2xx costs three statements: the claim (with its destination), the record, the next head', async () => {
  const d = await receivingDestination(t.db, { events: ['call_started', 'call_ended'] });
  receivers.push(d.receiver);
  const callId = newCallId();
  await applied(callId, 'call_started');
  await applied(callId, 'call_ended');
  const [first, second] = await findDeliveriesOf(t.db, callId);
  sender.probe.take();

  const outcome = await forwardDelivery(sender.db, TEST_KEYS, first!.id);

  expect(outcome.kind).toBe('delivered');
  // The chain is handed on to the call's next delivery.
  expect(outcome.kind === 'delivered' && outcome.next?.id).toBe(second!.id);
  expect(d.receiver.received).toHaveLength(1);
  const statements = sender.probe.take().statements;
  // Before: claim, destination, BEGIN, attempt, delivery, streak, next head, COMMIT.
  expect(statements).toBe(3);
  const rows = await findDeliveriesOf(t.db, callId);
  expect(rows.map((r) => r.status)).toEqual(['delivered', 'pending']);
  const attempts = await t.db.selectFrom('forward_attempts').selectAll().where('delivery_id', '=', first!.id).execute();
  expect(attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 204, error: null })]);
});

it('a 2xx ends the destination’s failure streak in that one statement', async () => {
  const d = await receivingDestination(t.db, { events: ['call_started'] });
  receivers.push(d.receiver);
  await t.db.updateTable('forward_destinations').set({ consecutive_failures: 3 }).where('id', '=', d.id).execute();
  const callId = newCallId();
  await applied(callId, 'call_started');
  const [delivery] = await findDeliveriesOf(t.db, callId);

  expect((await forwardDelivery(sender.db, TEST_KEYS, delivery!.id)).kind).toBe('delivered');

  const destination = await t.db
    .selectFrom('forward_destinations')
    .select('consecutive_failures')
    .where('id', '=', d.id)
    .executeTakeFirstOrThrow();
  expect(destination.consecutive_failures).toBe(0);
});
