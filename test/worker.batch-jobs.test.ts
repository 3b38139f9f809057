import { recordDeliveries } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { defaultHandlers, PermanentEventError, type EventHandler } from '@callsync/domain';
import { enqueueWebhookBatch, webhookJobData, webhookJobId } from '@callsync/queue';
import { body, delivery, newCallId } from './support/calls';
import { useTestDatabase } from './support/database';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';

/** The ingress's batch jobs: one BullMQ job for the rows one INSERT committed. */
const t = useTestDatabase();
let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function store(event: 'call_started' | 'call_ended', callIds: string[]) {
  const rows = await recordDeliveries(
    t.db,
    callIds.map((callId) => delivery(event, callId)),
  );
  return rows.map((r, i) => webhookJobData({ id: r.id, event_type: event, call_id: callIds[i] }));
}

describe('batch jobs', () => {
  it('apply every row of the batch, and hand each row that fails to a job of its own that retries it', async () => {
    const ok = Array.from({ length: 8 }, () => newCallId('batchjob'));
    const flaky = newCallId('batchjob_flaky');
    const broken = newCallId('batchjob_broken');
    const rejected: EventHandler = async (db, e) => {
      if (e.callId === broken) throw new PermanentEventError('the call object has no agent');
      if (e.callId === flaky) throw new Error('CRM rejected the call');
      await defaultHandlers.call_started!(db, e);
    };
    p = await startPipeline(t.db, {
      attempts: 2,
      backoffMs: 10,
      handlers: { ...defaultHandlers, call_started: rejected },
    });
    const jobs = await store('call_started', [...ok.slice(0, 4), flaky, broken, ...ok.slice(4)]);
    await enqueueWebhookBatch(p.queue, jobs);

    const rows = await p.settled(jobs.map((j) => j.rowId));
    const byCall = new Map(rows.map((r) => [r.call_id, r]));
    for (const callId of ok) {
      expect(byCall.get(callId)).toMatchObject({ status: 'processed', attempts: 1 });
      expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'in_progress' });
    }
    // Failed rows carry their error, and so do their own jobs, as Bull Board lists them.
    expect(byCall.get(flaky)).toMatchObject({ status: 'failed', attempts: 2, error: 'CRM rejected the call' });
    expect(byCall.get(broken)).toMatchObject({ status: 'failed', attempts: 1, error: 'the call object has no agent' });
    for (const [callId, tries] of [
      [flaky, 2],
      [broken, 1],
    ] as const) {
      const job = await until(`${callId}'s own job to fail`, async () => {
        const j = await p!.queue.getJob(webhookJobId(byCall.get(callId)!.id));
        return j && (await j.getState()) === 'failed' ? j : undefined;
      });
      expect(job).toMatchObject({ failedReason: byCall.get(callId)!.error, attemptsMade: tries });
    }
    // The batch job itself completed, saying what it did.
    const [batch] = (await p.queue.getJobs(['completed'])).filter((j) => j.name === 'batch');
    expect(batch!.returnvalue).toEqual({ rows: 10, processed: 8, skipped: 0, already: 0, handedOff: 2 });
  });

  it('skip rows already applied, so a batch run twice (a worker killed mid-batch) has one effect', async () => {
    p = await startPipeline(t.db);
    const callIds = Array.from({ length: 5 }, () => newCallId('batchjob_twice'));
    const jobs = await store('call_started', callIds);
    await enqueueWebhookBatch(p.queue, jobs);
    await p.settled(jobs.map((j) => j.rowId));
    await enqueueWebhookBatch(p.queue, jobs);
    const second = await until('the second batch job to complete', async () => {
      const done = (await p!.queue.getJobs(['completed'])).filter((j) => j.name === 'batch');
      return done.length === 2 ? done : undefined;
    });
    expect(second.map((j) => j.returnvalue.already).sort()).toEqual([0, 5]);
    const rows = await p.settled(jobs.map((j) => j.rowId));
    expect(rows.every((r) => r.status === 'processed' && r.attempts === 1)).toBe(true);
  });

  it('are what the ingress adds for deliveries committed together', async () => {
    p = await startPipeline(t.db);
    const callIds = Array.from({ length: 30 }, () => newCallId('batchjob_ingress'));
    const responses = await Promise.all(callIds.map((callId) => p!.deliver(body('call_started', { callId }))));
    expect(responses.map((r) => r.status)).toEqual(callIds.map(() => 200));
    const rows = await p.settled(responses.map((r) => r.body.id as string));
    expect(rows.every((r) => r.status === 'processed')).toBe(true);
    // Concurrent requests share INSERTs, and each INSERT's rows share one job.
    const jobs = await p.queue.getJobs(['completed']);
    const batches = jobs.filter((j) => j.name === 'batch');
    expect(batches.length).toBeGreaterThan(0);
    expect(jobs.length).toBeLessThan(callIds.length);
    const covered = jobs.flatMap((j) => (j.name === 'batch' ? (j.data.rowIds as string[]) : [j.data.rowId as string]));
    expect(covered.sort()).toEqual(rows.map((r) => r.id).sort());
  });
});
