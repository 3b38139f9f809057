import { loadConfig } from '@callsync/config';
import { createDb } from '@callsync/db';
import { createLogger } from '@callsync/logger';
import { createRedisConnection } from '@callsync/queue';
import { failStartup, handleShutdown } from '@callsync/runtime';
import { createWebhookWorker } from './webhook-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development', defaultMeta: { service: 'worker', pid: process.pid } });
  const db = createDb({ url: config.database.url, poolSize: Math.max(config.database.poolSize, config.worker.concurrency + 2), applicationName: 'callsync-worker' });
  const connection = createRedisConnection(config.redis, { name: 'callsync-worker' });
  connection.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));

  const worker = createWebhookWorker({ db, connection, logger, prefix: config.redis.prefix, concurrency: config.worker.concurrency });
  logger.info('worker started', { concurrency: config.worker.concurrency });

  handleShutdown({
    logger,
    timeoutMs: 30_000,
    stop: async () => {
      // Stop fetching and wait for in-flight jobs; unfinished ones are taken over after their lock expires.
      await worker.close();
      connection.disconnect();
      await db.destroy();
    },
  });
}

main().catch(failStartup);
