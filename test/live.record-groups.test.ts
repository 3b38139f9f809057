import { type Db } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { startInvocation } from '@callsync/db/live';
import { ResultRecords } from '@callsync/domain';
import { AnswerRecorder } from '@callsync/ingress';
import { createLogger } from '@callsync/logger';
import { probedDb, type PoolProbe } from '@callsync/testkit';
import { newCallId, storeEvent } from './support/calls';
import { truncateAll, useTestDatabase } from './support/database';

/**
 * Function results are written after their answers, in groups (issue 33). `make bench --probe-live`
 * showed the groups held one result each at 200 calls/s: written at once, two statements per call
 * reached the live pool, the record's as many as the answers'. A group now gathers first.
 */
const t = useTestDatabase();
let live: { db: Db; probe: PoolProbe };
const logger = createLogger({ silent: true });

beforeAll(() => {
  live = probedDb(t.url, 2, 'record-groups-test');
});
afterAll(() => live.db.destroy());
beforeEach(() => truncateAll(t.db));

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

it('results answered in separate turns of the event loop within the gathering window go in one statement', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await startInvocation(t.db, { callId: null, name: 'lookup', argsJson: '{}', key: `k${i}` }))!);
  // A generous window, so a slow machine still answers all five inside it.
  const records = new ResultRecords(live.db, logger, 2_000);
  live.probe.take();

  for (const [i, id] of ids.entries()) {
    records.afterAnswer(
      { status: 200, body: { result: `r${i}` }, outcome: 'ok' },
      {
        id,
        status: 'ok',
        result: `r${i}`,
        durationMs: 3,
      },
    );
    // Each answer's route returns to the event loop before the next request is answered.
    await nextTurn();
  }
  // Until written, a retry in this process is answered from memory.
  expect(records.answered(ids[4]!)).toBeDefined();
  await records.settled();

  const statements = live.probe.take();
  expect(statements.statements).toBe(1);
  const rows = await t.db.selectFrom('function_calls').select(['id', 'status', 'result']).orderBy('id').execute();
  expect(rows.map((r) => [r.status, r.result])).toEqual(ids.map((_, i) => ['ok', `r${i}`]));
  expect(records.answered(ids[4]!)).toBeUndefined();
});

it('an inbound webhook recorded after a call_started that arrived while its group gathered stays first in the call’s timeline', async () => {
  const callId = newCallId('timeline');
  const recorder = new AnswerRecorder(live.db, logger, 1_000);
  const body = JSON.stringify({
    event: 'call_inbound',
    call_inbound: { from_number: '+491604366218', to_number: '+493033081738', call_id: callId },
  });
  recorder.record({
    eventType: 'call_inbound',
    dedupeKey: `call_inbound:${callId}`,
    callId,
    chatId: null,
    payloadJson: body,
    rawBody: Buffer.from(body),
    signature: null,
    answer: { call_inbound: {} },
    receivedAt: new Date(),
  });
  // The call connects and its call_started reaches the ingress while the record still gathers.
  await storeEvent(t.db, 'call_started', callId);
  await recorder.drained();

  const events = await findWebhookEvents(t.db, callId);
  // Before: ordered by id, the later-written record came after call_started.
  expect(events.map((e) => e.event_type)).toEqual(['call_inbound', 'call_started']);
});
