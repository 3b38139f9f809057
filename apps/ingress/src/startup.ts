import type { Express } from 'express';
import { loadConfigFor, requireSecretKey, type Config, type ProcessConfig } from '@callsync/config';
import { createDb, type Db } from '@callsync/db';
import { listenForTenantChanges, type StartedCall, type TenantListener } from '@callsync/db/tenants';
import { invalidateTenantCache, SecretKeyring, TenantDirectory } from '@callsync/domain';
import { createLogger, type Logger } from '@callsync/logger';
import { startMetricsServer, type Metrics } from '@callsync/metrics';
import { handleShutdown, ingressShutdownBoundMs, INGRESS_REQUEST_TIMEOUT_MS, limitHeapGrowth } from '@callsync/runtime';
import { ingressFunctions } from './functions';

/*
 * What the ingress (main.ts) and the live process (live-main.ts) share at start-up and shutdown:
 * both serve Retell's signed requests, hold the routing in memory and drain before they close.
 */

/** The heap limit, the process's own settings, the secret key and a logger that has said the config's warnings. */
export function startServing<P extends 'ingress' | 'live'>(
  service: P,
): { config: ProcessConfig<P>; keys: SecretKeyring; logger: Logger } {
  limitHeapGrowth();
  const config = loadConfigFor<P>(service);
  const common: Pick<Config, 'env' | 'logLevel' | 'warnings' | 'secretKey'> = config;
  // Refused without CALLSYNC_SECRET_KEY, in every NODE_ENV: callers are hashed with it.
  const keys = new SecretKeyring(requireSecretKey(common));
  const logger = createLogger({
    level: common.logLevel,
    pretty: common.env === 'development',
    defaultMeta: { service },
  });
  for (const warning of common.warnings) logger.warn(warning);
  return { config, keys, logger };
}

/**
 * Connections of the live process's second pool, for what no answer waits on (records after their
 * answers, callers prefetched at call_started). Beside the webhook load, a third of the statements
 * on one pool were these, and a caller's statement queued behind them (`make bench --probe-live`).
 */
export const LIVE_BACKGROUND_POOL_SIZE = 2;

/**
 * The pool inbound answers, functions and the context API read through. Their handlers may run
 * queries of their own, so the statement bound is the functions' timeout scale, not the webhook path's.
 */
export function createLivePool(url: string, poolSize: number, applicationName: string): Db {
  return createDb({
    url,
    poolSize,
    applicationName,
    connectTimeoutMs: 1000,
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 2000,
    idleInTransactionTimeoutMs: 10_000,
    queryTimeoutMs: 12_000,
  });
}

/**
 * The routing held in memory, refreshed on every callsync_tenants notification: a company mapped or
 * changed applies to the next inbound answer and function at once.
 */
export function watchTenants(
  db: Db,
  url: string,
  logger: Logger,
  calls: { started?: (call: StartedCall) => void; erased?: () => void } = {},
): { directory: TenantDirectory; listener: TenantListener } {
  const directory = new TenantDirectory(db, (err) =>
    logger.warn('routing not re-read; the last snapshot stays in use', { err: err.message }),
  );
  const listener = listenForTenantChanges(
    url,
    () => {
      invalidateTenantCache();
      void directory.refresh();
    },
    (err) => logger.warn('tenant change listener lost its connection; reconnecting', { err: err.message }),
    calls.started,
    calls.erased,
  );
  return { directory, listener };
}

/** What the ingress's and the live process's apps both take from the config. */
export function signedRequestOptions(config: Pick<Config, 'webhooks' | 'ingress'>) {
  return {
    webhookKeys: config.webhooks.keys,
    signatureToleranceMs: config.ingress.signatureToleranceMs,
    maxUnverifiedBytes: config.ingress.maxUnverifiedBytes,
    bodyTimeoutMs: config.ingress.bodyTimeoutMs,
    apiTokens: config.ingress.apiTokens,
    functions: ingressFunctions(),
  };
}

interface ServeOptions {
  logger: Logger;
  port: number;
  /** Said once the port listens. */
  listening: () => void;
  metrics: Metrics;
  metricsPort: number;
  /** The variable that set metricsPort, named when it cannot be served. */
  metricsVariable: string;
  /** SHUTDOWN_DRAIN: how long to keep serving after SIGTERM with /readyz answering 503. */
  drainMs: number;
  /** Called first on SIGTERM: /readyz answers 503 from then on. */
  startDraining: () => void;
  /** Closes what the requests used, once the last one has finished. */
  close: () => Promise<void>;
}

/**
 * Listen on the public port (a bind error ends the process) and serve /metrics on a listener of its
 * own. On SIGTERM fail readiness first and keep serving for drainMs, so the load balancer takes this
 * instance out of rotation before it stops accepting; then let in-flight requests finish and close.
 */
export async function serve(app: Express, o: ServeOptions): Promise<void> {
  const server = app.listen(o.port, '0.0.0.0', o.listening);
  server.on('error', (err) => {
    o.logger.error('HTTP server error', { err });
    process.exit(1);
  });
  // Retell's timeout is 10 s; a request should never be held longer than that.
  server.requestTimeout = INGRESS_REQUEST_TIMEOUT_MS;
  const metricsServer = await startMetricsServer(o.metricsPort, o.metrics).catch((err: Error) => {
    throw new Error(`cannot serve /metrics on ${o.metricsVariable} ${o.metricsPort}: ${err.message}`, { cause: err });
  });
  o.logger.info(`metrics on :${metricsServer.port}/metrics`);
  handleShutdown({
    logger: o.logger,
    timeoutMs: ingressShutdownBoundMs(o.drainMs),
    stop: async () => {
      o.startDraining();
      if (o.drainMs > 0) {
        o.logger.info('draining: /readyz answers 503, still serving', { drain_ms: o.drainMs });
        await new Promise((resolve) => setTimeout(resolve, o.drainMs));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      metricsServer.server.close();
      await o.close();
    },
  });
}
