import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

/** Concurrent requests are committed together (group commit); each still gets its own, correct answer. */
let t: TestDatabase;
let p: Pipeline;
beforeAll(async () => {
  t = await createTestDatabase();
  p = await startPipeline(t.db);
});
afterAll(async () => {
  await p.close();
  await t.drop();
});

describe('ingress group commit', () => {
  it('answers each of many concurrent deliveries for its own row, counting duplicates within a batch', async () => {
    const calls = Array.from({ length: 30 }, () => newCallId('batch'));
    const payloads = calls.flatMap((callId) => [body('call_started', { callId }), body('call_ended', { callId })]);
    const dup = payloads[0]!;
    const all = [...payloads, dup, dup];
    const responses = await Promise.all(all.map((b) => p.deliver(b)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // Distinct events: distinct rows; the triple: one row, counted 3 times, one of them "new".
    expect(new Set(responses.slice(0, payloads.length).map((r) => r.body.id)).size).toBe(payloads.length);
    const dupAnswers = responses.filter((r) => r.body.id === responses[0]!.body.id);
    expect(dupAnswers).toHaveLength(3);
    expect(dupAnswers.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    const rows = await p.settled(responses.slice(0, payloads.length).map((r) => r.body.id));
    expect(rows.every((r) => r.status === 'processed')).toBe(true);
    expect(rows.find((r) => r.id === responses[0]!.body.id)?.delivery_count).toBe(3);
    expect(rows.filter((r) => r.id !== responses[0]!.body.id).every((r) => r.delivery_count === 1)).toBe(true);
  });

  it('one delivery Postgres refuses does not fail the others in its batch', async () => {
    const good = Array.from({ length: 10 }, () => body('call_started', { callId: newCallId('ok') }));
    const odd = JSON.stringify({ event: 'call_started', call: { call_id: newCallId('nul'), transcript: 'x\u0000y' } });
    const responses = await Promise.all(
      [...good, odd, ...good.map((g) => g.replace('call_started', 'call_ended'))].map((b) => p.deliver(b)),
    );
    expect(responses.map((r) => r.status)).toEqual(new Array(21).fill(200));
    const rows = await p.settled(responses.map((r) => r.body.id));
    expect(rows).toHaveLength(21);
  });
});

describe('recordDeliveries from several ingress processes at once', () => {
  it('commits overlapping batches written in opposite orders without a deadlock, counting every delivery', async () => {
    const { recordDeliveries } = await import('@callsync/db/events');
    for (let round = 0; round < 5; round++) {
      const deliveries = Array.from({ length: 40 }, () => {
        const callId = newCallId('overlap');
        const raw = body('call_started', { callId });
        return {
          eventType: 'call_started',
          callId,
          dedupeKey: `call_started:${callId}`,
          payloadJson: raw,
          rawBody: Buffer.from(raw),
          signature: null,
          source: 'webhook' as const,
        };
      });
      // Two replicas receive the same events (Retell retrying) in opposite orders, at the same moment.
      const [a, b] = await Promise.all([
        recordDeliveries(t.db, deliveries),
        recordDeliveries(t.db, [...deliveries].reverse()),
      ]);
      b.reverse();
      expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
      expect(a.map((r, i) => Number(r.inserted) + Number(b[i]!.inserted))).toEqual(new Array(40).fill(1));
      const counts = await t.db
        .selectFrom('webhook_events')
        .select(['id', 'delivery_count'])
        .where(
          'id',
          'in',
          a.map((r) => r.id),
        )
        .execute();
      expect(counts.map((c) => c.delivery_count)).toEqual(new Array(40).fill(2));
    }
  });
});

describe('recordDeliveries with both kinds in one batch', () => {
  it('commits both statements or neither, so a retry never counts a first delivery twice', async () => {
    const { recordDeliveries } = await import('@callsync/db/events');
    const callId = newCallId('atomic');
    const started = body('call_started', { callId });
    const lifecycle = {
      eventType: 'call_started',
      callId,
      dedupeKey: `call_started:${callId}`,
      payloadJson: started,
      rawBody: Buffer.from(started),
      signature: null,
      source: 'webhook' as const,
    };
    // The snapshot statement (the second one) fails: this text is not valid for jsonb.
    const broken = {
      eventType: 'transcript_updated',
      callId,
      dedupeKey: `transcript_updated:${callId}`,
      payloadJson: '{"transcript": "x\\u0000y"}',
      rawBody: null,
      signature: null,
      source: 'webhook' as const,
      replacesSnapshot: true,
    };
    await expect(recordDeliveries(t.db, [lifecycle, broken])).rejects.toMatchObject({ code: '22P05' });
    expect(await t.db.selectFrom('webhook_events').select('id').where('event_id', '=', callId).execute()).toEqual([]);

    // What the ingress does next: the deliveries one by one.
    const [retried] = await recordDeliveries(t.db, [lifecycle]);
    expect(retried).toMatchObject({ inserted: true, deliveryCount: 1 });
  });
});
