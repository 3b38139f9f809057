import type { Server } from 'node:http';
import express from 'express';
import { pingDatabase, type Db } from '@callsync/db';
import type { Metrics } from '@callsync/metrics';
import type { RedisConnection } from '@callsync/queue';

/** A worker's small HTTP side: /healthz (alive), /readyz (Postgres and Redis reachable), /metrics. */
export async function startHealthServer(
  port: number,
  deps: { db: Db; redis: RedisConnection; metrics: Metrics },
): Promise<{ server: Server; port: number }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [pg, redis] = await Promise.allSettled([pingDatabase(deps.db), deps.redis.ping()]);
    const body = {
      postgres: pg.status === 'fulfilled' ? 'ok' : 'unavailable',
      redis: redis.status === 'fulfilled' ? 'ok' : 'unavailable',
    };
    res.status(pg.status === 'fulfilled' && redis.status === 'fulfilled' ? 200 : 503).json(body);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.text());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  return { server, port: (server.address() as { port: number }).port };
}
