import { sql } from 'kysely';
import { addDestination, findDeliveriesOf } from '@callsync/db/forward';
import {
  createDestination,
  defaultHandlers,
  forwardDelivery,
  processWebhookEvent,
  sendDelivery,
} from '@callsync/domain';
import { ForwardReceiver } from '@callsync/fake-receiver';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId, storeEvent } from './support/calls';
import { TEST_KEYS } from './support/keys';

/*
 * Forwarding never reaches a private or reserved address, nor uses plain http, unless the
 * destination was added with --allow-private: checked when it is added, and again at every DNS
 * resolution of a send (so a public name later pointed at 127.0.0.1 or 10.x is refused).
 * The ranges themselves: packages/domain/src/forwarding/reserved-addresses.test.ts.
 */
const t = useTestDatabase();
let receiver: ForwardReceiver;
beforeEach(async () => {
  await truncateAll(t.db);
  receiver = await new ForwardReceiver({ secrets: [] }).start();
});
afterEach(() => receiver.close());

const port = () => new URL(receiver.url).port;

describe('at every DNS resolution', () => {
  it('refuses a name that resolves to loopback unless the destination allows private addresses', async () => {
    // `localhost` is a DNS name: it is only known to be 127.0.0.1 or ::1 once it is resolved.
    const send = (url: string, allowPrivate: boolean) =>
      sendDelivery({ url, headers: {}, body: '{}', timeoutMs: 15_000, allowLinkLocal: false, allowPrivate });
    const refused = await send(`https://localhost:${port()}/hooks/callsync`, false);
    expect(refused).toMatchObject({ statusCode: null, refused: true });
    expect(refused.error).toMatch(/private or reserved address \((127\.0\.0\.0\/8|::\/96)\).*--allow-private/);
    const plain = await send(`http://localhost:${port()}/hooks/callsync`, false);
    expect(plain.refused).toBe(true);
    expect(receiver.received).toHaveLength(0);

    const allowed = await send(`http://localhost:${port()}/hooks/callsync`, true);
    expect(allowed).toMatchObject({ refused: false, statusCode: 401 });
    expect(receiver.received).toHaveLength(1);
  });

  it('fails the delivery of a destination stored without allow_private (added before the flag) and sends nothing', async () => {
    // A destination as it was added before --allow-private existed: plain http to this machine.
    const d = await addDestination(t.db, {
      url: receiver.url,
      events: ['call_started'],
      companyId: null,
      payloadMode: 'raw',
      secret: TEST_KEYS.encrypt('whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ='),
      rateLimitPerSecond: null,
      breakerThreshold: 20,
      allowLinkLocal: false,
      allowPrivate: false,
      description: null,
    });
    const callId = newCallId();
    await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', callId), defaultHandlers);
    const [delivery] = await findDeliveriesOf(t.db, callId);
    await forwardDelivery(t.db, TEST_KEYS, delivery!.id, { timeoutMs: 15_000, retrySchedule: [] });
    const [after] = await findDeliveriesOf(t.db, callId);
    expect(after).toMatchObject({ status: 'failed' });
    expect(after!.last_error).toMatch(/refused: .*(private or reserved|plain http).*--allow-private/);
    expect(receiver.received).toHaveLength(0);

    // The operator allows it (the same as adding it again with --allow-private): the next one is sent.
    await sql`update forward_destinations set allow_private = true where id = ${d.id}`.execute(t.db);
    const next = newCallId();
    await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', next), defaultHandlers);
    const [second] = await findDeliveriesOf(t.db, next);
    await forwardDelivery(t.db, TEST_KEYS, second!.id, { timeoutMs: 15_000, retrySchedule: [] });
    expect(receiver.received).toHaveLength(1);
  });
});

describe('when a destination is added', () => {
  it('takes plain http to this machine in development only, and records the permission', async () => {
    await expect(createDestination(t.db, TEST_KEYS, { url: receiver.url, events: ['call_started'] })).rejects.toThrow(
      /plain http is refused outside development.*--allow-private/,
    );
    const { destination } = await createDestination(t.db, TEST_KEYS, {
      url: receiver.url,
      events: ['call_started'],
      development: true,
    });
    expect(destination.allow_private).toBe(true);
    // Development does not open other machines' private addresses.
    await expect(
      createDestination(t.db, TEST_KEYS, {
        url: 'http://192.168.1.20/hook',
        events: ['call_started'],
        development: true,
      }),
    ).rejects.toThrow(/plain http is refused outside development/);
    const flagged = await createDestination(t.db, TEST_KEYS, {
      url: 'https://10.0.0.5/hook',
      events: ['call_started'],
      allowPrivate: true,
    });
    expect(flagged.destination.allow_private).toBe(true);
    await expect(
      createDestination(t.db, TEST_KEYS, { url: 'https://[::ffff:10.0.0.5]/hook', events: ['call_started'] }),
    ).rejects.toThrow(/url: .*10\.0\.0\.0\/8/);
  });
});
