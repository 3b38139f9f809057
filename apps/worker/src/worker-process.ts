import type { Worker } from 'bullmq';
import { requireSecretKey, type ProcessConfig } from '@callsync/config';
import { createDb, pingDatabase } from '@callsync/db';
import { listenForTenantChanges } from '@callsync/db/tenants';
import { invalidateTenantCache, SecretKeyring, type ProviderApi, type TenantSource } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { Metrics, probeDependencies, startMetricsServer } from '@callsync/metrics';
import {
  createQueues,
  createRedisConnection,
  scheduleMaintenance,
  scheduleReconcile,
  scheduleTenantSync,
} from '@callsync/queue';
import { scheduleAudit } from '@callsync/queue';
import { scheduleAlertChecks } from '@callsync/queue';
import { RetellApiClient } from '@callsync/retell';
import { TimeoutError, withTimeout } from '@callsync/runtime';
import { createMaintenanceWorker, createRetentionWorker, createTenantSyncWorker } from './maintenance-worker';
import { createForwardWorker } from './forward-worker';
import { createReconcileWorker } from './reconcile-worker';
import { createAuditWorker } from './audit-worker';
import { alertSenders, createAlertWorker } from './alert-worker';
import { countListed } from './listed-metrics';
import { createWebhookWorker } from './webhook-worker';

/**
 * Close a worker, waiting at most `ms` for its in-flight jobs. After that, stop waiting: the process
 * exits, and the unfinished jobs' locks expire so another worker takes them over. (A later
 * `close(true)` would not help: BullMQ returns the close already in progress.)
 */
async function closeWithin(worker: Worker, ms: number, logger: Logger): Promise<void> {
  await withTimeout(worker.close(), ms, `closing the ${worker.name} worker`).catch((err: unknown) => {
    if (!(err instanceof TimeoutError)) throw err;
    logger.warn(`jobs still running after ${ms} ms; leaving them to another worker`, { queue: worker.name });
  });
}

/**
 * Everything one worker process runs: the webhook worker, the scheduled reconciliation pass and the
 * outbox sweeper. Returns stop(), which stops fetching, lets in-flight jobs finish within
 * WORKER_SHUTDOWN_TIMEOUT_MS and closes every connection.
 */
export async function startWorkerProcess(
  config: ProcessConfig<'worker'>,
  logger: Logger,
): Promise<{ stop: () => Promise<void> }> {
  // Refused without CALLSYNC_SECRET_KEY, in every NODE_ENV: retention hashes callers with it and
  // forwarding decrypts the destinations' signing secrets.
  const keys = new SecretKeyring(requireSecretKey(config));
  // Asynchronous commit is safe here, and only here: the worker derives everything it writes from
  // rows the ingress committed synchronously. If Postgres crashes and undoes a worker's last commits,
  // those rows are `pending` again (the mark is in the same transaction as the work) and the outbox
  // sweeper hands them out again; applying an event twice has one effect. Waiting for the WAL flush
  // per batch cost about 15% of the drain rate in `make bench`.
  //
  // Every wait is bounded, so a process that froze mid-batch (SIGSTOP, a paused VM, a network
  // partition) cannot stall the others: Postgres ends its open transaction after 15 s idle, releasing
  // its row locks, and a worker waiting on a lock gives up after 5 s (55P03, transient: the row stays
  // pending and is tried again). The pool is DATABASE_POOL_SIZE, never more (see the connection
  // budget in docs/operating.md): batches go one transaction at a time, and the rest need a few connections.
  const db = createDb({
    url: config.database.url,
    poolSize: config.database.poolSize,
    applicationName: 'callsync-worker',
    asyncCommit: true,
    connectTimeoutMs: 5_000,
    statementTimeoutMs: 15_000,
    lockTimeoutMs: 5_000,
    idleInTransactionTimeoutMs: 15_000,
    queryTimeoutMs: 20_000,
  });
  const connection = createRedisConnection(config.redis, { name: 'callsync-worker' });
  connection.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));
  const { prefix } = config.redis;

  const queues = createQueues(connection, prefix, config.worker);
  const {
    webhooks: webhookQueue,
    reconcile: reconcileQueue,
    maintenance: maintenanceQueue,
    retention: retentionQueue,
    tenants: tenantsQueue,
    forwards: forwardQueue,
    // The daily completeness audit, and callsync's own notifications (ALERT_WEBHOOK_URL,
    // ALERT_SMTP_URL), each on a queue of its own.
    audit: auditQueue,
    alerts: alertQueue,
  } = queues;
  for (const q of queues.all) q.on('error', (err) => logger.warn('queue error', { queue: q.name, err: err.message }));
  const senders = alertSenders(config.alerts);

  // Job schedulers live in Redis; a Redis that restarted without persistence has forgotten them,
  // so every (re)connect registers them again. Registration is idempotent.
  const registerSchedules = async () => {
    await scheduleReconcile(reconcileQueue, config.reconcile.everyMinutes * 60_000);
    await scheduleMaintenance(maintenanceQueue, retentionQueue, config.worker.sweepEveryMs);
    await scheduleAudit(auditQueue);
    await scheduleAlertChecks(alertQueue, senders.length ? config.alerts.checkEveryMs : null);
  };
  // The tenant sync runs daily and once when a worker starts (not on every Redis reconnect).
  let tenantSyncAsked = false;
  const onReady = () =>
    registerSchedules()
      .then(async () => {
        if (!tenantSyncAsked) await scheduleTenantSync(tenantsQueue);
        tenantSyncAsked = true;
      })
      .then(
        () => logger.debug('job schedulers registered'),
        (err: Error) => logger.error('could not register job schedulers', { err: err.message }),
      );
  connection.on('ready', onReady);
  if (connection.status === 'ready') void onReady();

  // Retell's client is the domain's provider port: reconciliation, the audit and the tenant sync see only that.
  const retell: ProviderApi & TenantSource = new RetellApiClient({
    baseUrl: config.retell.apiBaseUrl,
    apiKey: config.retell.apiKey,
    concurrency: config.retell.apiConcurrency,
    timeoutMs: config.retell.apiTimeoutMs,
  });
  // A company mapped or changed (make tenants, a sync) applies to the next event within a second or
  // two: Postgres NOTIFYs, and the worker drops its cached answers.
  const tenantListener = listenForTenantChanges(config.database.url, invalidateTenantCache, (err) =>
    logger.warn('tenant change listener lost its connection; reconnecting', { err: err.message }),
  );
  const metrics = new Metrics('worker');
  metrics.watchState(db, queues.all, {
    stuckAfterMinutes: config.reconcile.staleAfterMinutes + config.reconcile.everyMinutes,
  });
  const workers: Worker[] = [
    createWebhookWorker({
      db,
      connection,
      logger,
      metrics,
      prefix,
      concurrency: config.worker.concurrency,
      forwardQueue,
      webhookQueue,
    }),
    createForwardWorker({ db, keys, connection, logger, metrics, prefix, forwardQueue, ...config.forwarding }),
    createReconcileWorker({
      db,
      connection,
      logger,
      metrics,
      prefix,
      retell: countListed(retell, metrics),
      forwardQueue,
      ...config.reconcile,
    }),
    createMaintenanceWorker({
      db,
      connection,
      logger,
      prefix,
      webhookQueue,
      forwardQueue,
      sweepPendingAfterMs: config.worker.sweepPendingAfterMs,
    }),
    createRetentionWorker({ db, keys, connection, logger, prefix, retention: config.worker.retention }),
    createTenantSyncWorker({ db, connection, logger, prefix, retell }),
    createAuditWorker({ db, connection, logger, prefix, retell, reconcile: config.reconcile }),
  ];
  if (senders.length) {
    workers.push(
      createAlertWorker({
        db,
        connection,
        logger,
        prefix,
        senders,
        clearAfterMs: config.alerts.clearAfterMs,
        summaryHourUtc: config.alerts.summaryHourUtc,
      }),
    );
    logger.info('alert notifications on', { channels: senders.map((x) => `${x.channel} ${x.describe()}`) });
  }
  // The worker has no public port: /healthz, /readyz (Postgres and Redis: it needs both to work) and
  // /metrics share its ops listener.
  // Bounded: a ping queued while Redis reconnects would otherwise wait as long as that takes.
  const probe = () =>
    probeDependencies({
      postgres: () => withTimeout(pingDatabase(db), 2000, 'Postgres ping'),
      redis: () => withTimeout(connection.ping(), 2000, 'Redis ping'),
    });
  metrics.watchReadiness(async () => {
    const body = await probe();
    return body.postgres === 'ok' && body.redis === 'ok';
  });
  const health = await startMetricsServer(config.worker.metricsPort, metrics, {
    readiness: async () => {
      const body = await probe();
      return { ready: body.postgres === 'ok' && body.redis === 'ok', body };
    },
  });
  logger.info('worker started', {
    concurrency: config.worker.concurrency,
    reconcile_every_minutes: config.reconcile.everyMinutes,
    metrics_port: health.port,
  });

  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(workers.map((w) => closeWithin(w, config.worker.shutdownTimeoutMs, logger)));
        health.server.close();
        await tenantListener.close();
        await queues.close();
        connection.disconnect();
        // A job left running still holds a pg client; ending the pool would wait for it. The
        // process exit closes that connection, and Postgres rolls its transaction back.
        await Promise.race([db.destroy(), new Promise((r) => setTimeout(r, 2000).unref())]);
      })()),
  };
}
