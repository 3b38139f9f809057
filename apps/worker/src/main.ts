import { loadConfig } from '@callsync/config';
import { createDb } from '@callsync/db';
import { createLogger } from '@callsync/logger';
import { createReconcileQueue, createRedisConnection, scheduleReconcile } from '@callsync/queue';
import { RetellApiClient } from '@callsync/retell';
import { failStartup, handleShutdown } from '@callsync/runtime';
import { createReconcileWorker } from './reconcile-worker';
import { createWebhookWorker } from './webhook-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development', defaultMeta: { service: 'worker', pid: process.pid } });
  const db = createDb({ url: config.database.url, poolSize: Math.max(config.database.poolSize, config.worker.concurrency + 4), applicationName: 'callsync-worker' });
  const connection = createRedisConnection(config.redis, { name: 'callsync-worker' });
  connection.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));
  const { prefix } = config.redis;

  const webhookWorker = createWebhookWorker({ db, connection, logger, prefix, concurrency: config.worker.concurrency });

  const retell = new RetellApiClient({
    baseUrl: config.retell.apiBaseUrl,
    apiKey: config.retell.apiKeys[0]!,
    concurrency: config.retell.apiConcurrency,
    timeoutMs: config.retell.apiTimeoutMs,
  });
  const reconcileQueue = createReconcileQueue(connection, prefix);
  reconcileQueue.on('error', (err) => logger.warn('reconcile queue error', { err: err.message }));
  await scheduleReconcile(reconcileQueue, config.reconcile.everyMinutes * 60_000);
  const reconcileWorker = createReconcileWorker({ db, connection, logger, prefix, retell, ...config.reconcile });
  logger.info('worker started', { concurrency: config.worker.concurrency, reconcile_every_minutes: config.reconcile.everyMinutes });

  handleShutdown({
    logger,
    timeoutMs: 30_000,
    stop: async () => {
      // Stop fetching and wait for in-flight jobs; unfinished ones are taken over after their lock expires.
      await Promise.all([webhookWorker.close(), reconcileWorker.close()]);
      await reconcileQueue.close();
      connection.disconnect();
      await db.destroy();
    },
  });
}

main().catch(failStartup);
