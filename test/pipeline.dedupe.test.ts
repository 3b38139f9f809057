import { sign } from 'retell-sdk';
import { findCallSession } from '@callsync/db/sessions';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';

const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline(t.db);
});
afterEach(() => p.close());

describe('redeliveries', () => {
  it('the same delivery sent 3x concurrently gives one row, delivery_count 3, and one effect', async () => {
    const callId = newCallId();
    const payload = body('call_ended', { callId });
    const signature = await sign(payload, TEST_API_KEY);
    const responses = await Promise.all([1, 2, 3].map(() => p.deliver(payload, signature)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);

    const [row] = await p.settled([...ids]);
    expect(row).toMatchObject({ status: 'processed', delivery_count: 3, attempts: 1 });
    const rows = await t.db.selectFrom('webhook_events').select('id').where('event_id', '=', callId).execute();
    expect(rows).toHaveLength(1);
    // One job ran, once.
    const counts = await p.queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    expect(counts).toEqual({ completed: 1, failed: 0, waiting: 0, active: 0, delayed: 0 });
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'ended' });
  });

  it('a redelivery after processing is counted and changes nothing', async () => {
    const callId = newCallId();
    const first = await p.deliver(body('call_started', { callId }));
    await p.settled([first.body.id]);
    const before = await findCallSession(t.db, callId);
    // Retell retries with a fresh signature; the body is the same.
    const again = await p.deliver(body('call_started', { callId }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
    const [row] = await p.settled([first.body.id]);
    expect(row).toMatchObject({ status: 'processed', delivery_count: 2, attempts: 1 });
    expect(await findCallSession(t.db, callId)).toEqual(before);
  });
});
