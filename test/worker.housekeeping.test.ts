import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { sql } from 'kysely';
import { createLogger } from '@callsync/logger';
import { createQueues, createRedisConnection, scheduleMaintenance, webhookJobId } from '@callsync/queue';
import { createMaintenanceWorker, createRetentionWorker } from '@callsync/worker';
import { useTestDatabase } from './support/database';
import { newCallId, storeAgedEvent } from './support/calls';
import { serviceUrls } from './support/env';
import { TEST_KEYS } from './support/keys';
import { deleteQueueKeys, until } from './support/processes';

/** The outbox sweeper and retention run on queues of their own: a long retention run never holds off the sweeper. */
const t = useTestDatabase();
const prefix = `{callsync-housekeeping-${randomUUID().slice(0, 8)}}`;
const logger = createLogger({ silent: true });
afterAll(() => deleteQueueKeys(serviceUrls().redisUrl, prefix));

/** A maintenance worker's options: it sweeps every pending row at once (no age threshold). */
const sweeperOptions = (
  connection: ReturnType<typeof createRedisConnection>,
  queues: ReturnType<typeof createQueues>,
) => ({ db: t.db, connection, logger, prefix, webhookQueue: queues.webhooks, sweepPendingAfterMs: 0 });

describe('housekeeping queues', () => {
  it('sweeps pending rows while a retention run is stuck on a lock', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queues = createQueues(connection, prefix, { attempts: 3, backoffMs: 10 });
    const workerConnection = createRedisConnection({ url: serviceUrls().redisUrl });
    const sweeper = createMaintenanceWorker(sweeperOptions(workerConnection, queues));
    const retention = createRetentionWorker({
      db: t.db,
      keys: TEST_KEYS,
      connection: workerConnection,
      logger,
      prefix,
      retention: { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 },
    });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // Retention's DELETE waits on this; the sweeper only reads.
    const lockWebhookEvents = () =>
      t.db.transaction().execute(async (trx) => {
        await sql`lock table webhook_events in share mode`.execute(trx);
        locked();
        await released;
      });
    // A pending row without a job (Redis lost it), a minute old, written before the lock.
    const orphanId = await storeAgedEvent(t.db, 'call_started', newCallId('orphan'));
    const holder = lockWebhookEvents();
    try {
      await isLocked;
      const retentionJob = await queues.retention.add('retention', {});
      await until('retention to be running', async () =>
        (await retentionJob.getState()) === 'active' ? true : undefined,
      );

      const sweep = await queues.maintenance.add('sweep-pending', {});
      await until(
        'the sweep to finish',
        async () => ((await sweep.getState()) === 'completed' ? true : undefined),
        10_000,
      );
      expect(await retentionJob.getState()).toBe('active');
      expect(await queues.webhooks.getJob(webhookJobId(orphanId))).toBeDefined();
    } finally {
      release();
      await holder;
    }
    await until(
      'retention to finish once the lock is gone',
      async () => ((await queues.retention.getJobCounts('completed')).completed === 1 ? true : undefined),
      10_000,
    );
    await sweeper.close();
    await retention.close();
    await queues.close();
    connection.disconnect();
    workerConnection.disconnect();
  });

  it('a sweep whose worker died is taken over at the next stalled check, not a minute later', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queues = createQueues(connection, prefix, { attempts: 3, backoffMs: 10 });
    const workerConnection = createRedisConnection({ url: serviceUrls().redisUrl });
    const options = sweeperOptions(workerConnection, queues);
    // How a maintenance worker locks the jobs it takes (read from one on a queue nobody uses).
    const probe = createMaintenanceWorker({ ...options, queueName: 'lock-settings-probe' });
    const lockDuration = probe.opts.lockDuration;
    await probe.close();
    // A maintenance worker took the sweep and was SIGKILLed: its lock stays until it expires, unrenewed.
    const sweep = await queues.maintenance.add('sweep-pending', {});
    const dead = new Worker(queues.maintenance.name, null, {
      connection: workerConnection,
      prefix,
      autorun: false,
      lockDuration,
    });
    expect((await dead.getNextJob('killed-worker'))?.id).toBe(sweep.id);
    const sweeper = createMaintenanceWorker(options);
    try {
      // Before: a 30 s lock checked every 30 s left the queue (one run at a time) without a sweep for up to a minute.
      await until(
        'the sweep to be taken over and run',
        async () => ((await sweep.getState()) === 'completed' ? true : undefined),
        25_000,
      );
    } finally {
      await sweeper.close();
      await dead.close(true);
      await queues.close();
      connection.disconnect();
      workerConnection.disconnect();
    }
  }, 40_000);

  it('moves the retention scheduler off the maintenance queue', async () => {
    const connection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queues = createQueues(connection, prefix, { attempts: 3, backoffMs: 10 });
    try {
      // What an earlier version registered: retention on the maintenance queue.
      await queues.maintenance.upsertJobScheduler(
        'retention',
        { every: 86_400_000 },
        { name: 'retention', data: { task: 'retention' } },
      );
      await scheduleMaintenance(queues.maintenance, queues.retention, 30_000);
      expect((await queues.maintenance.getJobSchedulers()).map((s) => s.key)).toEqual(['sweep-pending']);
      expect((await queues.retention.getJobSchedulers()).map((s) => s.key)).toEqual(['retention']);
    } finally {
      await queues.close();
      connection.disconnect();
    }
  });
});
