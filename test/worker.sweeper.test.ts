import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { sql } from 'kysely';
import { enqueueWebhookBatch, enqueueWebhookEvents, queueRedis, webhookJobData, webhookJobId } from '@callsync/queue';
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

  describe('cost per sweep bounded by the backlog (issue 32)', () => {
    const later = () => new Date(Date.now() + 1000);

    it('checks at most maxRowsPerSweep rows that have their jobs, and the next sweep goes on from there', async () => {
      p = await startPipeline(t.db, { worker: false });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await orphanRow());
      await enqueueWebhookEvents(
        p.queue,
        ids.map((id) => webhookJobData({ id, event_type: 'call_started' })),
      );
      const sweep = () =>
        sweepPendingEvents(t.db, p!.queue, logger, { pendingAfterMs: 0, now: later, batchSize: 2, maxRowsPerSweep: 2 });
      // 5 rows, 2 a sweep: 2, 2, then the last one (the end: the next sweep starts over).
      expect((await sweep()).checked).toBe(2);
      expect((await sweep()).checked).toBe(2);
      expect((await sweep()).checked).toBe(1);
      expect((await sweep()).checked).toBe(2);
      expect((await p.queue.getJobCounts('waiting')).waiting).toBe(5);
    });

    it('never puts off a repair: pages whose rows lost their jobs do not count against the limit', async () => {
      p = await startPipeline(t.db, { worker: false });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await orphanRow());
      const r = await sweepPendingEvents(t.db, p.queue, logger, {
        pendingAfterMs: 0,
        now: later,
        batchSize: 2,
        maxRowsPerSweep: 2,
      });
      expect(r).toEqual({ checked: 5, enqueued: 5, retried: 0 });
      for (const id of ids) expect(await p.queue.getJob(webhookJobId(id))).toBeDefined();
    });

    it('pages through rows in numeric id order, across ids of different lengths', async () => {
      p = await startPipeline(t.db, { worker: false });
      await sql`select setval(pg_get_serial_sequence('webhook_events', 'id'), 95)`.execute(t.db);
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push(await orphanRow()); // 96 .. 105
      await enqueueWebhookBatch(
        p.queue,
        ids.map((id) => webhookJobData({ id, event_type: 'call_started' })),
      );
      expect(await sweepPendingEvents(t.db, p.queue, logger, { pendingAfterMs: 0, now: later, batchSize: 3 })).toEqual({
        checked: 10,
        enqueued: 0,
        retried: 0,
      });
    });

    it('knows the rows of a batch whose ids lie far apart (a redelivered old row), and forgets batches once their rows are done', async () => {
      p = await startPipeline(t.db, { worker: false });
      const old = await orphanRow();
      // Far more ids later than one segment spans.
      await sql`select setval(pg_get_serial_sequence('webhook_events', 'id'), ${Number(old) + 50_000})`.execute(t.db);
      const fresh = [await orphanRow(), await orphanRow()];
      await enqueueWebhookBatch(
        p.queue,
        [old, ...fresh].map((id) => webhookJobData({ id, event_type: 'call_started' })),
      );
      const sweep = () => sweepPendingEvents(t.db, p!.queue, logger, { pendingAfterMs: 0, now: later, batchSize: 1 });
      expect(await sweep()).toEqual({ checked: 3, enqueued: 0, retried: 0 });

      const redis = await queueRedis(p.queue);
      const members = () => redis.runCommand('zcard', [p!.queue.toKey('batch-rows')]) as Promise<number>;
      expect(await members()).toBe(2);
      // The rows are applied (by the batch's worker, here by hand), and a newer row arrives.
      await sql`update webhook_events set status = 'processed', processed_at = now()`.execute(t.db);
      await sql`select setval(pg_get_serial_sequence('webhook_events', 'id'), ${Number(fresh[1]) + 50_000})`.execute(
        t.db,
      );
      const newer = await orphanRow();
      expect(await sweep()).toEqual({ checked: 1, enqueued: 1, retried: 0 });
      expect(await p.queue.getJob(webhookJobId(newer))).toBeDefined();
      expect(await members()).toBe(0);
    });
  });
});
