import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { enqueueWebhookBatch, webhookJobData, webhookJobId } from '@callsync/queue';
import { sweepPendingEvents } from '@callsync/worker';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId, storeEvent } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';

const t = useTestDatabase();
let p: Pipeline | undefined;
const logger = createLogger({ silent: true });
beforeEach(() => truncateAll(t.db));
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** A committed pending row with no job: what an ingress leaves when Redis was down, or Redis forgot. */
async function orphanRow(): Promise<string> {
  return storeEvent(t.db, 'call_started', newCallId('orphan'));
}

describe('outbox sweeper', () => {
  it('enqueues pending rows without a job exactly once, even with several sweepers at once', async () => {
    p = await startPipeline(t.db, { worker: false });
    const ids = [await orphanRow(), await orphanRow(), await orphanRow()];
    // A clock a second ahead: every row just written is past the threshold, whatever the clocks' precision.
    const later = () => new Date(Date.now() + 1000);
    const results = await Promise.all(
      [1, 2, 3].map(() => sweepPendingEvents(t.db, p!.queue, logger, { pendingAfterMs: 0, now: later })),
    );
    expect(results.every((r) => r.checked === 3)).toBe(true);
    const counts = await p.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    expect(counts.waiting).toBe(3);
    for (const id of ids) expect(await p.queue.getJob(webhookJobId(id))).toBeDefined();
  });

  it('leaves rows a waiting batch job will apply, and gives rows of a batch job Redis lost jobs of their own', async () => {
    p = await startPipeline(t.db, { worker: false });
    const ids = [await orphanRow(), await orphanRow(), await orphanRow()];
    await enqueueWebhookBatch(
      p.queue,
      ids.map((id) => webhookJobData({ id, event_type: 'call_started' })),
    );
    const later = () => new Date(Date.now() + 1000);
    const sweep = () => sweepPendingEvents(t.db, p!.queue, logger, { pendingAfterMs: 0, now: later });
    expect(await sweep()).toEqual({ checked: 3, enqueued: 0, retried: 0 });
    for (const id of ids) expect(await p.queue.getJob(webhookJobId(id))).toBeUndefined();
    const [batch] = await p.queue.getJobs(['wait']);
    expect(batch!.name).toBe('batch');
    await batch!.remove();
    expect(await sweep()).toEqual({ checked: 3, enqueued: 3, retried: 0 });
    for (const id of ids) expect(await p.queue.getJob(webhookJobId(id))).toBeDefined();
  });

  it('leaves rows younger than the threshold to the ingress', async () => {
    p = await startPipeline(t.db, { worker: false });
    await orphanRow();
    expect(await sweepPendingEvents(t.db, p.queue, logger, { pendingAfterMs: 60_000 })).toEqual({
      checked: 0,
      enqueued: 0,
      retried: 0,
    });
  });

  it('does not fail an event whose attempts ran out while Postgres was unreachable; the sweeper retries it', async () => {
    let outage = true;
    const unreachable: EventHandler = async (db, event) => {
      if (outage) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      await defaultHandlers.call_started!(db, event);
    };
    p = await startPipeline(t.db, {
      handlers: { ...defaultHandlers, call_started: unreachable },
      attempts: 2,
      backoffMs: 10,
    });
    const res = await p.deliver(body('call_started', { callId: newCallId() }));
    await until('the job to run out of attempts', async () =>
      (await (await p!.queue.getJob(webhookJobId(res.body.id)))?.getState()) === 'failed' ? true : undefined,
    );
    const row = await t.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', attempts: 2, error: 'connect ECONNREFUSED 127.0.0.1:5432' });

    outage = false;
    expect(
      await sweepPendingEvents(t.db, p.queue, logger, { pendingAfterMs: 0, now: () => new Date(Date.now() + 1000) }),
    ).toMatchObject({ checked: 1, retried: 1 });
    const [done] = await p.settled([res.body.id]);
    expect(done).toMatchObject({ status: 'processed', attempts: 3, error: null });
  });
});
