import { createDb, pingDatabase } from '@callsync/db';
import { Metrics } from '@callsync/metrics';
import { createRedisConnection, createWebhookQueue } from '@callsync/queue';
import { failStartup } from '@callsync/runtime';
import { createIngressApp, WEBHOOK_PATH } from './app';
import { createLivePool, serve, signedRequestOptions, startServing, watchTenants } from './startup';

/** Connections of the pool inbound answers, functions and the context API share (docs/operating.md: connection budget). */
const LIVE_POOL_SIZE = 4;

async function main(): Promise<void> {
  const { config, keys, logger } = startServing('ingress');
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
  const queue = createWebhookQueue({ connection, prefix: config.redis.prefix, ...config.jobs });
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
  // never takes a connection a webhook needs.
  const liveDb = createLivePool(config.database.url, LIVE_POOL_SIZE, 'callsync-ingress-live');
  // The live routes served here (the live process serves the same): routing in memory. No prefetch
  // here: resolving every announced call's caller would spend the webhook path's CPU under load
  // (make chaos's hostile phase timed signed deliveries out). The live process prefetches; the
  // ingress's own live routes (single-process setups) read Postgres at a call's first function.
  const tenants = watchTenants(liveDb, config.database.url, logger);
  const afterAnswers: (() => Promise<void>)[] = [];
  const app = createIngressApp({
    afterAnswers: (settled) => afterAnswers.push(settled),
    metrics,
    db,
    keys,
    queue,
    redis: connection,
    logger,
    maxBodyBytes: config.ingress.maxBodyBytes,
    liveDb,
    directory: tenants.directory,
    draining: () => draining,
    ...signedRequestOptions(config),
  });
  await serve(app, {
    logger,
    port: config.ingress.port,
    listening: () => logger.info(`listening on :${config.ingress.port}, webhook path ${WEBHOOK_PATH}`),
    metrics,
    metricsPort: config.ingress.metricsPort,
    metricsVariable: 'INGRESS_METRICS_PORT',
    drainMs: config.ingress.shutdownDrainMs,
    startDraining: () => (draining = true),
    close: async () => {
      await queue.close();
      connection.disconnect();
      await tenants.listener.close();
      // Function results and inbound answers are written just after they were sent: first those.
      await Promise.all(afterAnswers.map((settled) => settled()));
      await Promise.all([db.destroy(), metricsDb.destroy(), liveDb.destroy()]);
    },
  });
}

main().catch(failStartup);
