import { sql } from 'kysely';
import { findDeliveriesOf, findDestination } from '@callsync/db/forward';
import {
  answerInbound,
  applySecretKey,
  createDestination,
  defaultHandlers,
  forwardDelivery,
  parseCall,
  processWebhookEvent,
  resolveCallContext,
  rotateSecret,
  SecretKeyring,
  type InboundRouting,
} from '@callsync/domain';
import { ForwardReceiver } from '@callsync/fake-receiver';
import { createLogger } from '@callsync/logger';
import { sampleCall } from '@callsync/retell';
import { applyRetention } from '@callsync/worker';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId, storeEvent } from './support/calls';

/*
 * Rotating CALLSYNC_SECRET_KEY: the new key in CALLSYNC_SECRET_KEY, the old one in
 * CALLSYNC_SECRET_KEY_PREVIOUS. Callers hashed under the old key are still recognised while it stays
 * listed; secrets encrypted with it still sign, and `make migrate` re-encrypts them with the new one.
 */
const t = useTestDatabase();
const OLD_KEY = '0123456789abcdef'.repeat(4);
const NEW_KEY = 'fedcba9876543210'.repeat(4);
const before = new SecretKeyring({ current: OLD_KEY, previous: [] });
const rotated = new SecretKeyring({ current: NEW_KEY, previous: [OLD_KEY] });
const newOnly = new SecretKeyring({ current: NEW_KEY, previous: [] });
const CALLER = '+491701234567';
const NUMBER = '+493033081738';
const policy = { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 };
const logger = createLogger({ silent: true });
const receivers: ForwardReceiver[] = [];
beforeEach(() => truncateAll(t.db));
afterEach(async () => Promise.all(receivers.splice(0).map((r) => r.close())));

/** A call of CALLER that ended `daysAgo` days ago (no company: this deployment has none). */
async function pastCall(callId: string, daysAgo: number, summary: string): Promise<void> {
  await sql`
    insert into retell_call_sessions (call_id, call_status, call_type, direction, from_number, to_number, call_summary, started_at, ended_at)
    values (${callId}, 'ended', 'phone_call', 'inbound', ${CALLER}, ${NUMBER}, ${summary},
            now() - make_interval(days => ${daysAgo + 1}), now() - make_interval(days => ${daysAgo}))`.execute(t.db);
}

async function known(keys: SecretKeyring): Promise<Record<string, string>> {
  const d = await answerInbound(t.db, keys, { from_number: CALLER, to_number: NUMBER });
  return (d.answer as InboundRouting).dynamic_variables;
}

describe('after rotating the secret key', () => {
  it('recognises a caller pruned under the previous key while that key is in CALLSYNC_SECRET_KEY_PREVIOUS', async () => {
    await pastCall('pruned_under_old_key', 120, 'Rezept Metformin');
    await applyRetention(t.db, before, logger, policy);

    // Retention removed the summary with the rest of the caller data; the keyed hash still counts the call.
    expect(await known(rotated)).toMatchObject({
      caller_known: 'true',
      caller_call_count: '1',
      caller_last_summary: '',
    });
    // It is the listed previous key that makes it match.
    expect(await known(newOnly)).toMatchObject({ caller_known: 'false', caller_call_count: '0' });

    // A call pruned after the rotation is hashed under the new key; both count, in the call context too.
    await pastCall('pruned_under_new_key', 100, 'Termin verschoben');
    await applyRetention(t.db, rotated, logger, policy);
    expect(await known(rotated)).toMatchObject({ caller_known: 'true', caller_call_count: '2' });
    const live = parseCall({
      call: sampleCall({ callId: newCallId(), fromNumber: CALLER, toNumber: NUMBER }, 'call_started'),
    });
    const context = await resolveCallContext(t.db, rotated, live.call_id, { call: live, at: new Date() });
    expect(context!.caller).toMatchObject({ known: true, call_count: 2, last_summary: null });
  });

  it('signs with a secret encrypted under the previous key, and make migrate re-encrypts it with the new one', async () => {
    const receiver = await new ForwardReceiver({ secrets: [] }).start();
    receivers.push(receiver);
    const { destination, secret } = await createDestination(t.db, before, {
      url: receiver.url,
      events: ['call_started'],
      allowPrivate: true,
    });
    receiver.secrets = [secret];
    const callId = newCallId();
    await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', callId), defaultHandlers);
    const [delivery] = await findDeliveriesOf(t.db, callId);

    // The old key dropped too early: nothing is sent and no attempt counted; the error names the key.
    await expect(forwardDelivery(t.db, newOnly, delivery!.id)).rejects.toThrow(
      new RegExp(`encrypted with key ${before.keyId}, which is neither CALLSYNC_SECRET_KEY`),
    );
    expect(receiver.received).toEqual([]);
    expect((await findDeliveriesOf(t.db, callId))[0]).toMatchObject({ status: 'pending', attempts: 0 });

    // With the old key listed it signs with the secret the receiver knows.
    await sql`update forward_deliveries set next_attempt_at = now() where id = ${delivery!.id}`.execute(t.db);
    expect(await forwardDelivery(t.db, rotated, delivery!.id)).toMatchObject({ kind: 'delivered' });
    expect(receiver.received.map((m) => [m.verified, m.status])).toEqual([[true, 204]]);

    // make migrate's step: encrypted with the new key now, so the old key is no longer needed for it.
    expect(await applySecretKey(t.db, rotated)).toEqual({
      callerHashesRewrapped: 0,
      secretsEncrypted: 1,
      expiredSecretsRemoved: 0,
    });
    const stored = (await findDestination(t.db, destination.id))!.secret;
    expect(stored.startsWith(newOnly.encryptedPrefix)).toBe(true);
    expect(newOnly.decrypt(stored)).toBe(secret);
    expect(await applySecretKey(t.db, rotated)).toMatchObject({ secretsEncrypted: 0 });
  });

  it('recovers a destination whose key is lost: rotate-secret signs with a new secret at once, and make migrate drops what cannot be read', async () => {
    const receiver = await new ForwardReceiver({ secrets: [] }).start();
    receivers.push(receiver);
    const { destination } = await createDestination(t.db, before, {
      url: receiver.url,
      events: ['call_started'],
      allowPrivate: true,
    });
    // OLD_KEY is lost: make migrate cannot re-encrypt, and says what to do.
    await expect(applySecretKey(t.db, newOnly)).rejects.toThrow(
      `destination ${destination.id}: its signing secret cannot be read`,
    );
    await expect(applySecretKey(t.db, newOnly)).rejects.toThrow(`rotate-secret ${destination.id}`);

    const recovered = (await rotateSecret(t.db, newOnly, destination.id))!;
    expect(recovered.overlapHours).toBe(0);
    receiver.secrets = [recovered.secret];
    const callId = newCallId();
    await processWebhookEvent(t.db, await storeEvent(t.db, 'call_started', callId), defaultHandlers);
    const [delivery] = await findDeliveriesOf(t.db, callId);
    expect(await forwardDelivery(t.db, newOnly, delivery!.id)).toMatchObject({ kind: 'delivered' });
    expect(receiver.received.map((m) => [m.verified, m.signature.split(' ').length])).toEqual([[true, 1]]);

    expect(await applySecretKey(t.db, newOnly)).toEqual({
      callerHashesRewrapped: 0,
      secretsEncrypted: 0,
      expiredSecretsRemoved: 1,
    });
    expect(await findDestination(t.db, destination.id)).toMatchObject({
      previous_secret: null,
      previous_secret_expires_at: null,
    });
  });
});
