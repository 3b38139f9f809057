import express from 'express';
import type { Db } from '@callsync/db';
import type { WebhookQueue } from '@callsync/queue';
import { callsRouter } from './calls.routes';
import { chartsRouter } from './charts.routes';
import { eventsRouter } from './events.routes';

export interface ConsoleOptions {
  /** Where replayed events get their jobs. */
  webhookQueue?: WebhookQueue;
}

/**
 * The console's pages: calls, one call's timeline, events with replay, charts; all from Postgres.
 * Each page's routes parse the query, call packages/db or the domain, and render the view code
 * beside them (query.ts, timeline.ts, charts.ts, …), which is pure and tested without HTTP.
 */
export function consoleRouter(db: Db, options: ConsoleOptions = {}): express.Router {
  const router = express.Router();
  router.use(callsRouter(db), eventsRouter(db, options.webhookQueue), chartsRouter(db));
  return router;
}
