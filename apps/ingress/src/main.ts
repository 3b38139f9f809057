import { loadConfig, requireSecretKey } from '@callsync/config';
import { createDb, listenForTenantChanges, pingDatabase } from '@callsync/db';
import { invalidateTenantCache, SecretKeyring, TenantDirectory } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { Metrics, startMetricsServer } from '@callsync/metrics';
import { createRedisConnection, createWebhookQueue } from '@callsync/queue';
import {
  failStartup,
  handleShutdown,
  ingressShutdownBoundMs,
  INGRESS_REQUEST_TIMEOUT_MS,
  limitHeapGrowth,
} from '@callsync/runtime';
import { createIngressApp, WEBHOOK_PATH } from './app';
import { ingressFunctions } from './functions';

/** Connections of the pool inbound answers, functions and the context API share (docs/operating.md: connection budget). */
const LIVE_POOL_SIZE = 4;

async function main(): Promise<void> {
  limitHeapGrowth();
  const config = loadConfig();
  // Refused without CALLSYNC_SECRET_KEY, in every NODE_ENV: callers are hashed with it.
  const keys = new SecretKeyring(requireSecretKey(config));
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.env === 'development',
    defaultMeta: { service: 'ingress' },
  });
  // Fail fast: Retell gives up after 10 s, and a 503 makes it retry. No wait is unbounded: a lock that
  // is not free within 1 s (a frozen worker's row, a locked table) means 503, and a session left in a
  // transaction is ended.
  const db = createDb({
    url: config.database.url,
    poolSize: config.database.poolSize,
    applicationName: 'callsync-ingress',
    connectTimeoutMs: 1000,
    statementTimeoutMs: 5000,
    lockTimeoutMs: 1000,
    idleInTransactionTimeoutMs: 5000,
    queryTimeoutMs: 5000,
  });
  const connection = createRedisConnection(config.redis, { enableOfflineQueue: false, name: 'callsync-ingress' });
  connection.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));
  const queue = createWebhookQueue({ connection, prefix: config.redis.prefix, ...config.worker });
  queue.on('error', (err) => logger.warn('queue error', { err: err.message }));

  let draining = false;
  const metrics = new Metrics('ingress');
  // Scrapes read through a pool of their own, so they can never take a connection from a webhook.
  const metricsDb = createDb({
    url: config.database.url,
    poolSize: 1,
    applicationName: 'callsync-ingress-metrics',
    connectTimeoutMs: 1000,
    statementTimeoutMs: 2000,
    queryTimeoutMs: 3000,
  });
  metrics.watchState(metricsDb, [queue], {
    stuckAfterMinutes: config.reconcile.staleAfterMinutes + config.reconcile.everyMinutes,
  });
  // What /readyz answers, as a series alerts can see: not draining, and Postgres answers.
  metrics.watchReadiness(async () => !draining && (await pingDatabase(db).then(() => true)));
  // Inbound answers, functions and the context API read through a pool of their own: a slow function
  // never takes a connection a webhook needs. Their handlers may run queries of their own, so the
  // statement bound is the functions' timeout scale, not the webhook path's.
  const liveDb = createDb({
    url: config.database.url,
    poolSize: LIVE_POOL_SIZE,
    applicationName: 'callsync-ingress-live',
    connectTimeoutMs: 1000,
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 2000,
    idleInTransactionTimeoutMs: 10_000,
    queryTimeoutMs: 12_000,
  });
  // The live routes served here (the live process serves the same): routing in memory.
  const directory = new TenantDirectory(liveDb, (err) =>
    logger.warn('routing not re-read; the last snapshot stays in use', { err: err.message }),
  );
  // A company mapped or changed applies to the next inbound answer and function at once.
  const tenantListener = listenForTenantChanges(
    config.database.url,
    () => {
      invalidateTenantCache();
      void directory.refresh();
    },
    (err) => logger.warn('tenant change listener lost its connection; reconnecting', { err: err.message }),
    // No prefetch here: resolving every announced call's caller would spend the webhook path's CPU
    // under load (make chaos's hostile phase timed signed deliveries out). The live process prefetches;
    // the ingress's own live routes (single-process setups) read Postgres at a call's first function.
  );
  const app = createIngressApp({
    metrics,
    db,
    keys,
    queue,
    redis: connection,
    logger,
    webhookKeys: config.retell.webhookKeys,
    maxBodyBytes: config.ingress.maxBodyBytes,
    maxUnverifiedBytes: config.ingress.maxUnverifiedBytes,
    bodyTimeoutMs: config.ingress.bodyTimeoutMs,
    liveDb,
    directory,
    functions: ingressFunctions(),
    apiTokens: config.ingress.apiTokens,
    signatureToleranceMs: config.ingress.signatureToleranceMs,
    draining: () => draining,
  });
  const server = app.listen(config.ingress.port, '0.0.0.0', () => {
    logger.info(`listening on :${config.ingress.port}, webhook path ${WEBHOOK_PATH}`);
  });
  server.on('error', (err) => {
    logger.error('HTTP server error', { err });
    process.exit(1);
  });
  const metricsServer = await startMetricsServer(config.ingress.metricsPort, metrics).catch((err: Error) => {
    throw new Error(`cannot serve /metrics on INGRESS_METRICS_PORT ${config.ingress.metricsPort}: ${err.message}`, {
      cause: err,
    });
  });
  logger.info(`metrics on :${metricsServer.port}/metrics`);
  // Retell's timeout is 10 s; a request should never be held longer than that.
  server.requestTimeout = INGRESS_REQUEST_TIMEOUT_MS;

  handleShutdown({
    logger,
    timeoutMs: ingressShutdownBoundMs(config.ingress.shutdownDrainMs),
    stop: async () => {
      // Fail readiness first and keep serving, so the load balancer takes this instance out of
      // rotation before it stops accepting; then let in-flight requests finish and close what they used.
      draining = true;
      if (config.ingress.shutdownDrainMs > 0) {
        logger.info('draining: /readyz answers 503, still serving', { drain_ms: config.ingress.shutdownDrainMs });
        await new Promise((resolve) => setTimeout(resolve, config.ingress.shutdownDrainMs));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      metricsServer.server.close();
      await queue.close();
      connection.disconnect();
      await tenantListener.close();
      await Promise.all([db.destroy(), metricsDb.destroy(), liveDb.destroy()]);
    },
  });
}

main().catch(failStartup);
