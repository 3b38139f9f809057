import { loadConfigFor } from '@callsync/config';
import { createDb } from '@callsync/db';
import { createLogger } from '@callsync/logger';
import { createQueues, createRedisConnection } from '@callsync/queue';
import { DASHBOARD_SHUTDOWN_BOUND_MS, failStartup, handleShutdown } from '@callsync/runtime';
import { BOARD_PATH, createDashboardApp } from './app';

function main(): void {
  const config = loadConfigFor('dashboard');
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.env === 'development',
    defaultMeta: { service: 'dashboard' },
  });
  for (const warning of config.warnings) logger.warn(warning);
  const { user, password } = config.dashboard;
  if (!password && config.env !== 'development') {
    throw new Error(
      'DASHBOARD_PASSWORD is required outside development: the dashboard can retry and delete jobs. Set it (and DASHBOARD_USER) and start again.',
    );
  }
  const connection = createRedisConnection(config.redis, { name: 'callsync-dashboard' });
  connection.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));
  const queues = createQueues(connection, config.redis.prefix, config.jobs);
  // The console reads through a small pool of its own, with short statements.
  const db = createDb({
    url: config.database.url,
    poolSize: 3,
    applicationName: 'callsync-console',
    statementTimeoutMs: 10_000,
  });
  const app = createDashboardApp({
    queues: queues.all,
    db,
    webhookQueue: queues.webhooks,
    auth: password ? { user, password } : undefined,
  });
  // Without a password (development only) it listens on loopback alone.
  const host = password ? '0.0.0.0' : '127.0.0.1';
  const server = app.listen(config.dashboard.port, host, () => {
    logger.info(
      `Bull Board on http://${host === '0.0.0.0' ? 'localhost' : host}:${config.dashboard.port}${BOARD_PATH}${password ? ` (user ${user})` : ' (no password: development, loopback only)'}`,
    );
  });
  server.on('error', (err) => {
    logger.error('HTTP server error', { err });
    process.exit(1);
  });
  handleShutdown({
    logger,
    timeoutMs: DASHBOARD_SHUTDOWN_BOUND_MS,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      connection.disconnect();
      await db.destroy();
    },
  });
}

try {
  main();
} catch (err) {
  failStartup(err);
}
