import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findWebhookEvents } from '@callsync/db/events';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvent } from '@callsync/queue';
import { useTestDatabase } from './support/database';
import { newCallId, storeEvent } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, deleteQueueKeys, run, until, WORKER, type Proc } from './support/processes';

/**
 * A worker host that freezes in the middle of a batch (SIGSTOP here; a paused VM or a partition in
 * production) must not stall the others: Postgres ends its open transaction, releasing its row locks,
 * and another worker applies the event.
 */
const t = useTestDatabase();
const prefix = `{callsync-frozen-${randomUUID().slice(0, 8)}}`;
const procs: Proc[] = [];
beforeAll(() => assertBuilt());
afterAll(async () => {
  for (const p of procs) {
    p.child.kill('SIGCONT');
    p.child.kill('SIGKILL');
  }
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
});

function startWorker(): Proc {
  const p = run(WORKER, {
    DATABASE_URL: t.url,
    REDIS_URL: serviceUrls().redisUrl,
    QUEUE_PREFIX: prefix,
    RETELL_API_KEY: TEST_API_KEY,
    NODE_ENV: 'production',
    WORKER_METRICS_PORT: '0',
    JOB_BACKOFF_MS: '50',
    SWEEP_EVERY_SECONDS: '1',
    SWEEP_PENDING_AFTER_SECONDS: '1',
  });
  procs.push(p);
  return p;
}

async function waitingOnLock(): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from pg_stat_activity
    where datname = current_database() and application_name = 'callsync-worker' and wait_event_type = 'Lock'`.execute(
    t.db,
  );
  return Number(rows[0]!.n);
}

describe('a worker frozen mid-batch', () => {
  it('holds its locks only until Postgres ends its idle transaction; another worker then applies the event', async () => {
    const callId = newCallId('frozen');
    const rowId = await storeEvent(t.db, 'call_started', callId);
    // Hold the call's session so the first worker stops half-way: its row claimed, the session not written.
    await sql`insert into retell_call_sessions (call_id) values (${callId})`.execute(t.db);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holder = t.db.transaction().execute(async (trx) => {
      await sql`select id from retell_call_sessions where call_id = ${callId} for update`.execute(trx);
      await released;
    });
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createWebhookQueue({ connection, prefix, attempts: 5, backoffMs: 50 });
    try {
      await enqueueWebhookEvent(queue, { rowId, callId, event: 'call_started' });
      const first = startWorker();
      await until('the first worker to wait on the session', async () =>
        (await waitingOnLock()) > 0 ? true : undefined,
      );
      // Frozen while its transaction is open; once the session lock is free its statement completes,
      // and the transaction sits idle, holding the claimed row.
      first.child.kill('SIGSTOP');
      release();
      await holder;

      startWorker();
      const row = await until(
        'another worker to apply the event',
        async () => {
          const [r] = await findWebhookEvents(t.db, callId);
          return r?.status === 'processed' ? r : undefined;
        },
        60_000,
      );
      expect(row).toMatchObject({ status: 'processed' });
      // The frozen worker's session is gone: Postgres ended it.
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from pg_stat_activity
        where datname = current_database() and application_name = 'callsync-worker' and state = 'idle in transaction'`.execute(
        t.db,
      );
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 90_000);
});
