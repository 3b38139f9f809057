import { sql } from 'kysely';
import { Client } from 'pg';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';

const t = useTestDatabase();
let p: Pipeline | undefined;
const afterEachClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  await p?.close();
  p = undefined;
  for (const close of afterEachClose.splice(0)) await close();
});

const applyStarted = defaultHandlers.call_started!;

describe('worker: retries and failures', () => {
  it('a handler that fails twice, then succeeds, ends processed', async () => {
    let calls = 0;
    const flaky: EventHandler = async (db, event) => {
      calls += 1;
      if (calls <= 2) throw new Error(`temporary outage #${calls}`);
      await applyStarted(db, event);
    };
    p = await startPipeline(t.db, {
      handlers: { ...defaultHandlers, call_started: flaky },
      attempts: 3,
      backoffMs: 20,
    });
    const callId = newCallId();
    const res = await p.deliver(body('call_started', { callId }));
    const [row] = await p.settled([res.body.id]);
    expect(calls).toBe(3);
    expect(row).toMatchObject({ status: 'processed', attempts: 3, error: null });
    expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'in_progress' });
  });

  it('a handler that always fails ends failed with its error after the configured attempts, and nothing half-applied', async () => {
    let calls = 0;
    // Writes the session, then fails: the write must roll back with the attempt.
    const broken: EventHandler = async (db, event) => {
      calls += 1;
      await applyStarted(db, event);
      throw new Error('downstream CRM rejected the call');
    };
    p = await startPipeline(t.db, {
      handlers: { ...defaultHandlers, call_started: broken },
      attempts: 4,
      backoffMs: 10,
    });
    const callId = newCallId();
    const res = await p.deliver(body('call_started', { callId }));
    const [row] = await p.settled([res.body.id]);
    expect(calls).toBe(4);
    expect(row).toMatchObject({ status: 'failed', attempts: 4, error: 'downstream CRM rejected the call' });
    expect(await findCallSession(t.db, callId)).toBeUndefined();
    const job = await p.queue.getJob(`evt-${res.body.id}`);
    expect(await job?.getState()).toBe('failed');
  });

  it('retries a failing row after 1, 2, then 4 times the backoff (the delays BullMQ holds the job for, not waited out)', async () => {
    const failing: EventHandler = async () => {
      throw new Error('the CRM is down');
    };
    // A backoff no test waits for: the test reads each delay, then promotes the job by hand.
    p = await startPipeline(t.db, {
      handlers: { ...defaultHandlers, call_started: failing },
      attempts: 4,
      backoffMs: 60_000,
    });
    const res = await p.deliver(body('call_started', { callId: newCallId() }));
    const jobId = `evt-${res.body.id}`;
    const delays: number[] = [];
    for (let tries = 1; tries <= 3; tries++) {
      const job = await until(`try ${tries} to fail and the job to wait`, async () => {
        const j = await p!.queue.getJob(jobId);
        return j && j.attemptsMade === tries && (await j.getState()) === 'delayed' ? j : undefined;
      });
      delays.push(job.delay);
      await job.promote();
    }
    expect(delays).toEqual([60_000, 120_000, 240_000]);
    const [row] = await p.settled([res.body.id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 4, error: 'the CRM is down' });
  });

  it('an event no retry can fix fails at once, naming the bad field', async () => {
    p = await startPipeline(t.db, { attempts: 5, backoffMs: 10 });
    const callId = newCallId();
    const res = await p.deliver(
      JSON.stringify({ event: 'call_ended', call: { call_id: callId, end_timestamp: 'yesterday' } }),
    );
    expect(res.status).toBe(200);
    const [row] = await p.settled([res.body.id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.error).toMatch(/call\.end_timestamp/);
  });

  // Real Postgres errors, raised inside the handler's transaction.
  it.each([
    [
      'a statement timeout (57014)',
      'canceling statement due to statement timeout',
      async (db: Parameters<EventHandler>[0]) => {
        await sql`set local statement_timeout = 1`.execute(db);
        await sql`select pg_sleep(0.2)`.execute(db);
      },
    ],
    [
      'a table that is not there yet (42P01, migrations still running)',
      'relation "table_of_a_later_migration" does not exist',
      async (db: Parameters<EventHandler>[0]) => {
        await sql`select * from table_of_a_later_migration`.execute(db);
      },
    ],
    [
      'a lock that is not available in time (55P03)',
      'canceling statement due to lock timeout',
      async (db: Parameters<EventHandler>[0]) => {
        // The test holds this lock on another connection (below).
        await sql`set local lock_timeout = 10`.execute(db);
        await sql`select pg_advisory_xact_lock(424242)`.execute(db);
      },
    ],
  ])(
    '%s leaves the row pending after the last attempt, for the sweeper, never failed',
    async (_what, message, fail) => {
      const holder = new Client({ connectionString: t.url });
      await holder.connect();
      await holder.query('select pg_advisory_lock(424242)');
      afterEachClose.push(() => holder.end());
      const failing: EventHandler = async (db) => fail(db);
      p = await startPipeline(t.db, {
        handlers: { ...defaultHandlers, call_started: failing },
        attempts: 3,
        backoffMs: 10,
      });
      const callId = newCallId();
      const res = await p.deliver(body('call_started', { callId }));
      const job = await p.queue.getJob(`evt-${res.body.id}`);
      await until('the job to fail', async () => ((await job!.getState()) === 'failed' ? true : undefined));
      const [row] = await findWebhookEvents(t.db, callId);
      expect(row).toMatchObject({ status: 'pending', attempts: 3 });
      expect(row!.error).toContain(message);
    },
  );

  it('a job whose data does not match its definition fails at once, naming the field', async () => {
    p = await startPipeline(t.db, { attempts: 5, backoffMs: 10 });
    const job = await p.queue.add('event', { rowId: 'not-a-row-id', callId: 'x' } as never, { jobId: 'evt-broken' });
    await until('the job to fail', async () => ((await job.getState()) === 'failed' ? true : undefined));
    const failed = (await p.queue.getJob('evt-broken'))!;
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe('webhooks job evt-broken: rowId must be a webhook_events id');
  });
});
