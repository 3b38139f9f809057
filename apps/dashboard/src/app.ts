import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import helmet from 'helmet';
import type { Db } from '@callsync/db';
import type { WebhookQueue } from '@callsync/queue';
import { consoleRouter } from './console/console.routes';
import { agentsRouter } from './console/agents.routes';
import { assetsRouter } from './console/assets';
import { basicAuth } from './basic-auth';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle';

export const BOARD_PATH = '/admin/queues';

export interface DashboardOptions {
  queues: readonly Queue[];
  /** Basic-auth credentials; undefined means no auth (development only; main.ts enforces that). */
  auth?: { user: string; password: string };
  /** The console's database (calls, events, charts at /console). Without it, only Bull Board. */
  db?: Db;
  /** Where the console's replays put their jobs. */
  webhookQueue?: WebhookQueue;
  /** Failed logins per address: growing delays and 429 (login-throttle.ts). Default 5 free, then 1 s doubling. */
  loginThrottle?: LoginThrottleOptions;
}

/** The admin app: Bull Board over callsync's queues, behind basic auth. Separate from the public ingress. */
export function createDashboardApp(options: DashboardOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // helmet's headers on every answer, Bull Board's included: no page of the dashboard may be framed.
  // Bull Board's scripts are files of its own; its inline styles and fonts fit helmet's defaults.
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { 'frame-ancestors': ["'none'"] } },
      frameguard: { action: 'deny' },
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  if (options.auth)
    app.use(basicAuth(options.auth.user, options.auth.password, new LoginThrottle(options.loginThrottle)));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q, { allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'callsync' } },
  });
  app.use(BOARD_PATH, serverAdapter.getRouter());
  if (options.db) {
    app.use(
      '/console',
      assetsRouter(),
      consoleRouter(options.db, { webhookQueue: options.webhookQueue }),
      agentsRouter(options.db),
    );
  }
  const home = options.db ? '/console/calls' : BOARD_PATH;
  app.get('/', (_req, res) => res.redirect(home));
  // The README names `/console`; the console's pages live below it.
  if (options.db) app.get(['/console', '/console/'], (_req, res) => res.redirect('/console/calls'));
  app.use((req, res) => {
    res.status(404).type('html').send(notFoundPage(req.path, home));
  });
  return app;
}

/** Any path the dashboard does not serve: say so and link home, rather than Express's bare "Cannot GET". */
function notFoundPage(path: string, home: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found · callsync</title></head>
<body><h1>Not found</h1><p>The dashboard has no page at <code>${escapeHtml(path)}</code>.</p>
<p><a href="${home}">Home</a> · <a href="${BOARD_PATH}">Bull Board</a></p></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
