import { sql } from 'kysely';
import { findReplayCandidates, replayEvents, type EnqueueReplayed } from '@callsync/domain';
import { ensureWebhookJobs, webhookJobData, webhookJobId } from '@callsync/queue';
import { truncateAll, useTestDatabase } from './support/database';
import { startPipeline, type Pipeline } from './support/pipeline';

/**
 * The one replay that `make replay` and the console's Replay buttons both run
 * (packages/domain/src/replay), against Postgres and a real BullMQ queue: select, refuse what
 * retention pruned, mark, give each marked row a job.
 */
const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  await truncateAll(t.db);
  p = await startPipeline(t.db, { worker: false });
});
afterEach(() => p.close());

async function stored(callId: string, status: string, pruned = false): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    insert into webhook_events (event_type, call_id, dedupe_key, payload, status, error, processed_at, pruned_at)
    values ('call_ended', ${callId}, ${`call_ended:${callId}`},
      ${JSON.stringify({ event: 'call_ended', call: { call_id: callId } })}::jsonb,
      ${status}, 'boom', now(), ${pruned ? sql`now()` : null})
    returning id`.execute(t.db);
  return rows[0]!.id;
}

const enqueue: EnqueueReplayed = (rows) => ensureWebhookJobs(p.queue, rows.map(webhookJobData));

it('replays the selected rows with a payload, refuses pruned ones, and leaves a row that moved on alone', async () => {
  const a = await stored('call_a', 'failed');
  const b = await stored('call_b', 'failed');
  await stored('call_pruned', 'failed', true);
  await stored('call_done', 'processed');

  const found = await findReplayCandidates(t.db, { statuses: ['failed'], limit: 10 });
  expect(found.rows.map((r) => r.id)).toEqual([a, b]);
  expect(found).toMatchObject({ pruned: 1, atLimit: false });

  // Between selecting and replaying (a dry run, a confirmation page), a worker applies b.
  await t.db.updateTable('webhook_events').set({ status: 'processed' }).where('id', '=', b).execute();
  const result = await replayEvents(t.db, found.rows, ['failed'], enqueue);
  expect(result).toEqual({ marked: [a], jobs: { enqueued: 1, retried: 0, inFlight: 0 } });

  const rows = await t.db
    .selectFrom('webhook_events')
    .select(['id', 'status', 'replay_count', 'source'])
    .where('id', 'in', [a, b])
    .orderBy('id')
    .execute();
  expect(rows).toEqual([
    { id: a, status: 'pending', replay_count: 1, source: 'webhook' },
    { id: b, status: 'processed', replay_count: 0, source: 'webhook' },
  ]);
  const job = await p.queue.getJob(webhookJobId(a));
  expect(job?.data).toMatchObject({ rowId: a, callId: 'call_a', event: 'call_ended' });
  expect(await p.queue.getJob(webhookJobId(b))).toBeUndefined();
});

it('says when the selection stopped at its limit, and replays nothing when nothing is left', async () => {
  await stored('call_a', 'failed');
  await stored('call_b', 'failed');
  const found = await findReplayCandidates(t.db, { statuses: ['failed'], limit: 2 });
  expect(found.atLimit).toBe(true);
  const none = await replayEvents(t.db, [], ['failed'], async () => {
    throw new Error('no jobs for no rows');
  });
  expect(none).toEqual({ marked: [], jobs: { enqueued: 0, retried: 0, inFlight: 0 } });
});
