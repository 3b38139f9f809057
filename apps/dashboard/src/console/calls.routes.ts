import express, { type Request, type Response } from 'express';
import { type Db } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import { findDeliveriesOf } from '@callsync/db/forward';
import { findFunctionCallsOf } from '@callsync/db/live';
import { searchCalls } from '@callsync/db/ops';
import { callView } from './calls.view';
import { callSearchOf } from './filters';
import { nextPage, orBadInput, type Query } from './query';
import { renderPage } from './render';
import { CALLS, TIMELINE } from './templates';
import { timelinePage } from './timeline';

/** /console/calls (search, paged) and /console/calls/:id (one call's or chat's timeline). */
export function callsRouter(db: Db): express.Router {
  const router = express.Router();

  router.get('/calls', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const { value: calls, error } = await orBadInput(async () => searchCalls(db, await callSearchOf(db, q)), []);
    const last = calls.at(-1);
    const next = nextPage('/console/calls', q, calls.length, last?.started_at && { at: last.started_at, id: last.id });
    renderPage(res, {
      title: 'Calls',
      template: CALLS,
      data: { q, error, next, calls: calls.map(callView) },
      status: error ? 400 : 200,
    });
  });

  router.get('/calls/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const call = await findCallSession(db, id);
    const chat = call ? undefined : await findChatSession(db, id);
    const [events, functions, forwards] = await Promise.all([
      findWebhookEvents(db, id, { chat: Boolean(chat) }),
      findFunctionCallsOf(db, id),
      findDeliveriesOf(db, id),
    ]);
    const { title, status, data } = timelinePage(id, { call, chat, events, functions, forwards });
    renderPage(res, { title, template: TIMELINE, data, status });
  });
  return router;
}
