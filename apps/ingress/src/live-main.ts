import { loadConfig, requireSecretKey } from '@callsync/config';
import { createDb, listenForTenantChanges } from '@callsync/db';
import {
  ContextCache,
  invalidateTenantCache,
  prefetchCallContext,
  SecretKeyring,
  TenantDirectory,
} from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { Metrics, startMetricsServer } from '@callsync/metrics';
import {
  failStartup,
  handleShutdown,
  ingressShutdownBoundMs,
  INGRESS_REQUEST_TIMEOUT_MS,
  limitHeapGrowth,
} from '@callsync/runtime';
import { ingressFunctions } from './functions';
import { createLiveApp, FUNCTIONS_PATH, INBOUND_PATH } from './live.routes';

/*
 * The live process: what Retell asks during a call (the inbound webhook, custom functions, the
 * context API), at the ingress's paths, in a process and a pool of its own. Webhook bursts take the
 * ingress's CPU and connections, never these: a caller waits on every answer given here.
 * Routing (companies, numbers, schedules, blocklists) is held in memory and refreshed on every
 * callsync_tenants notification, so inbound answers route and reject without Postgres.
 */

async function main(): Promise<void> {
  limitHeapGrowth();
  const config = loadConfig();
  const keys = new SecretKeyring(requireSecretKey(config));
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.env === 'development',
    defaultMeta: { service: 'live' },
  });
  // Handlers may run queries of their own, so the statement bound is the functions' timeout scale.
  const db = createDb({
    url: config.database.url,
    poolSize: config.live.poolSize,
    applicationName: 'callsync-live',
    connectTimeoutMs: 1000,
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 2000,
    idleInTransactionTimeoutMs: 10_000,
    queryTimeoutMs: 12_000,
  });
  const metrics = new Metrics('live');
  const directory = new TenantDirectory(db, (err) =>
    logger.warn('routing not re-read; the last snapshot stays in use', { err: err.message }),
  );
  const prefetch = new ContextCache();
  // The listener reads the snapshot on connect and again on every change (and after a reconnect).
  const tenantListener = listenForTenantChanges(
    config.database.url,
    () => {
      invalidateTenantCache();
      void directory.refresh();
    },
    (err) => logger.warn('tenant change listener lost its connection; reconnecting', { err: err.message }),
    // A call started (an ingress announced it): its caller's context is read now, not at its first function.
    (call) =>
      void prefetchCallContext(db, keys, { directory, prefetched: prefetch }, call).catch((err: Error) =>
        logger.debug('call context not prefetched', { call_id: call.call_id, err: err.message }),
      ),
    // A caller was erased (make forget): nothing prefetched survives it.
    () => prefetch.clear(),
  );
  // A safety net besides the notifications (a missed one, a change made with psql): every minute.
  const refresher = setInterval(() => void directory.refresh(), 60_000);
  refresher.unref();
  await directory.refresh();
  let draining = false;
  const app = createLiveApp({
    db,
    keys,
    logger,
    metrics,
    functions: ingressFunctions(),
    apiTokens: config.ingress.apiTokens,
    directory,
    prefetch,
    webhookKeys: config.retell.webhookKeys,
    signatureToleranceMs: config.ingress.signatureToleranceMs,
    maxUnverifiedBytes: config.ingress.maxUnverifiedBytes,
    bodyTimeoutMs: config.ingress.bodyTimeoutMs,
    draining: () => draining,
  });
  const server = app.listen(config.live.port, '0.0.0.0', () => {
    logger.info(`live routes on :${config.live.port} (${INBOUND_PATH}, ${FUNCTIONS_PATH}, the context API)`, {
      routing: directory.loaded ? 'in memory' : 'not loaded yet (Postgres unreachable); reading it on reconnect',
    });
  });
  server.on('error', (err) => {
    logger.error('HTTP server error', { err });
    process.exit(1);
  });
  server.requestTimeout = INGRESS_REQUEST_TIMEOUT_MS;
  const metricsServer = await startMetricsServer(config.live.metricsPort, metrics).catch((err: Error) => {
    throw new Error(`cannot serve /metrics on LIVE_METRICS_PORT ${config.live.metricsPort}: ${err.message}`, {
      cause: err,
    });
  });
  logger.info(`metrics on :${metricsServer.port}/metrics`);

  handleShutdown({
    logger,
    timeoutMs: ingressShutdownBoundMs(config.ingress.shutdownDrainMs),
    stop: async () => {
      draining = true;
      if (config.ingress.shutdownDrainMs > 0)
        await new Promise((resolve) => setTimeout(resolve, config.ingress.shutdownDrainMs));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      clearInterval(refresher);
      metricsServer.server.close();
      await tenantListener.close();
      await db.destroy();
    },
  });
}

main().catch(failStartup);
