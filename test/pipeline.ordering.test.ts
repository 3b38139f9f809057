import { findCallSession, type CallSession } from '@callsync/db/sessions';
import type { SampleEvent } from '@callsync/retell';
import { createTestDatabase, truncateAll, type TestDatabase } from './support/database';
import { body, LIFECYCLE, newCallId, permutations } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

let t: TestDatabase;
let p: Pipeline;
beforeAll(async () => {
  t = await createTestDatabase();
  await truncateAll(t.db);
  p = await startPipeline(t.db);
});
afterAll(async () => {
  await p.close();
  await t.drop();
});

/** The session as a user compares them: without ids and wall-clock bookkeeping. */
function comparable(s: CallSession | undefined, callId: string): Record<string, unknown> {
  expect(s).toBeDefined();
  const { id: _i, call_id: _c, created_at: _ca, updated_at: _u, last_event_at, analyzed_at, ...rest } = s!;
  expect(last_event_at).toBeInstanceOf(Date);
  expect(analyzed_at).toBeInstanceOf(Date);
  return JSON.parse(JSON.stringify(rest).replaceAll(callId, '<call_id>'));
}

async function deliverInOrder(callId: string, order: SampleEvent[], oneByOne: boolean): Promise<void> {
  const ids: string[] = [];
  const sendOne = async (e: SampleEvent) => {
    const res = await p.deliver(body(e, { callId, agentId: 'agent_x' }));
    expect(res.status).toBe(200);
    ids.push(res.body.id);
    if (oneByOne) await p.settled([res.body.id]);
  };
  if (oneByOne) for (const e of order) await sendOne(e);
  else await Promise.all(order.map(sendOne));
  const rows = await p.settled(ids);
  expect(rows.map((r) => r.status)).toEqual(['processed', 'processed', 'processed']);
}

describe('arrival order does not matter', () => {
  it('all 6 orders of started/ended/analyzed give identical session rows', async () => {
    const orders = permutations(LIFECYCLE);
    expect(orders).toHaveLength(6);
    const sessions: Record<string, unknown>[] = [];
    for (const order of orders) {
      const callId = newCallId(order.map((e) => e.split('_')[1]).join('-'));
      await deliverInOrder(callId, order, true);
      sessions.push(comparable(await findCallSession(t.db, callId), callId));
    }
    for (const s of sessions) expect(s).toEqual(sessions[0]);
    expect(sessions[0]).toMatchObject({
      call_status: 'ended',
      lifecycle_rank: 3,
      from_number: '+491604366218',
      duration_ms: '61000',
      cost_cents: '13.1',
    });
    expect(sessions[0]!.analysis).toMatchObject({ call_successful: true });
  });

  it('the three events arriving at once, processed concurrently, give the same row', async () => {
    const reference = newCallId('ref');
    await deliverInOrder(reference, LIFECYCLE, true);
    const expected = comparable(await findCallSession(t.db, reference), reference);
    for (let i = 0; i < 5; i++) {
      const callId = newCallId('burst');
      await deliverInOrder(callId, [...LIFECYCLE].reverse(), false);
      expect(comparable(await findCallSession(t.db, callId), callId)).toEqual(expected);
    }
  });
});
