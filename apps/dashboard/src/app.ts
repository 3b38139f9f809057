import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import helmet from 'helmet';
import type { Db } from '@callsync/db';
import type { WebhookQueue } from '@callsync/queue';
import { consoleRouter } from './console/console.routes';
import { basicAuth } from './basic-auth';

export const BOARD_PATH = '/admin/queues';

export interface DashboardOptions {
  queues: readonly Queue[];
  /** Basic-auth credentials; undefined means no auth (development only; main.ts enforces that). */
  auth?: { user: string; password: string };
  /** The console's database (calls, events, charts at /console). Without it, only Bull Board. */
  db?: Db;
  /** Where the console's replays put their jobs. */
  webhookQueue?: WebhookQueue;
}

/** The admin app: Bull Board over callsync's queues, behind basic auth. Separate from the public ingress. */
export function createDashboardApp(options: DashboardOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  if (options.auth) app.use(basicAuth(options.auth.user, options.auth.password));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q, { allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'callsync' } },
  });
  app.use(BOARD_PATH, serverAdapter.getRouter());
  if (options.db) {
    // Strict headers for the console's own pages (Bull Board ships inline scripts of its own).
    app.use(
      '/console',
      helmet(),
      consoleRouter(options.db, { webhookQueue: options.webhookQueue, csrfKey: options.auth?.password }),
    );
  }
  app.get('/', (_req, res) => res.redirect(options.db ? '/console/calls' : BOARD_PATH));
  return app;
}
