import { recordDeliveries } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { defaultHandlers, PermanentEventError, processWebhookEventsBatch } from '@callsync/domain';
import { useTestDatabase } from './support/database';
import { body, delivery, newCallId } from './support/calls';

/** One transaction applies many rows: each gets its own, correct outcome. */
const t = useTestDatabase();

async function store(event: 'call_started' | 'call_ended' | 'call_paused', callId: string): Promise<string> {
  const raw = event === 'call_paused' ? JSON.stringify({ event, call: { call_id: callId } }) : body(event, { callId });
  const [r] = await recordDeliveries(t.db, [delivery(event, callId, raw)]);
  return r!.id;
}

const row = (id: string) =>
  t.db.selectFrom('webhook_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('processWebhookEventsBatch', () => {
  it('applies pending and failed rows, skips unhandled types, and leaves applied rows alone', async () => {
    const a = newCallId('batch');
    const b = newCallId('batch');
    const applied = await store('call_started', a);
    await processWebhookEventsBatch(t.db, [applied], defaultHandlers);
    const pending = await store('call_ended', a);
    const failed = await store('call_started', b);
    await t.db
      .updateTable('webhook_events')
      .set({ status: 'failed', attempts: 3, error: 'earlier failure' })
      .where('id', '=', failed)
      .execute();
    const unknown = await store('call_paused', b);

    const results = await processWebhookEventsBatch(t.db, [pending, applied, failed, unknown], defaultHandlers);

    expect(results.get(applied)).toEqual({
      outcome: 'already_final',
      status: 'processed',
      eventType: 'call_started',
      callId: a,
      chatId: null,
    });
    // No forwarding destination: nothing to forward.
    const applied1 = { outcome: 'processed', eventType: 'call_ended', callId: a, chatId: null, forwards: [] };
    expect(results.get(pending)).toEqual(applied1);
    expect(results.get(failed)).toEqual({ ...applied1, eventType: 'call_started', callId: b });
    expect(results.get(unknown)).toEqual({
      outcome: 'skipped',
      eventType: 'call_paused',
      callId: b,
      chatId: null,
      forwards: [],
    });
    expect(await row(applied)).toMatchObject({ status: 'processed', attempts: 1 });
    expect(await row(pending)).toMatchObject({ status: 'processed', attempts: 1, error: null });
    expect(await row(failed)).toMatchObject({ status: 'processed', attempts: 4, error: null });
    expect(await row(unknown)).toMatchObject({ status: 'skipped', attempts: 1 });
    expect((await row(pending)).processed_at).toBeInstanceOf(Date);
    expect(await findCallSession(t.db, a)).toMatchObject({ call_status: 'ended' });
    expect(await findCallSession(t.db, b)).toMatchObject({ call_status: 'in_progress' });
  });

  it('a row that does not exist fails the batch permanently and commits nothing', async () => {
    const callId = newCallId('batch');
    const pending = await store('call_started', callId);
    await expect(processWebhookEventsBatch(t.db, [pending, '999999999'], defaultHandlers)).rejects.toThrow(
      PermanentEventError,
    );
    await expect(processWebhookEventsBatch(t.db, [pending, '999999999'], defaultHandlers)).rejects.toThrow(
      'webhook_events row 999999999 does not exist',
    );
    expect(await row(pending)).toMatchObject({ status: 'pending', attempts: 0, processed_at: null });
    expect(await findCallSession(t.db, callId)).toBeUndefined();
  });

  it('a handler that throws rolls back the marks of the whole batch', async () => {
    const callId = newCallId('batch');
    const first = await store('call_started', callId);
    const second = await store('call_ended', callId);
    const handlers = { ...defaultHandlers, call_ended: () => Promise.reject(new Error('handler broke')) };
    await expect(processWebhookEventsBatch(t.db, [first, second], handlers)).rejects.toThrow('handler broke');
    expect(await row(first)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(second)).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
