import express, { type Request, type Response } from 'express';
import { type Db } from '@callsync/db';
import { searchEvents } from '@callsync/db/ops';
import { findReplayCandidates, replayEvents } from '@callsync/domain';
import { ensureWebhookJobs, webhookJobData, type WebhookQueue } from '@callsync/queue';
import { checkCsrf, csrfToken } from '../csrf';
import { confirmationOf, eventView, replayNotice, replaySelectionOf } from './events.view';
import { companyIdOf, eventSearchOf } from './filters';
import { nextPage, orBadInput, type Query } from './query';
import { renderPage } from './render';
import { CONFIRM, EVENTS } from './templates';

/** /console/events (search, paged) and its Replay buttons (POST /console/events/replay). */
export function eventsRouter(db: Db, webhookQueue: WebhookQueue | undefined): express.Router {
  const router = express.Router();

  router.get('/events', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const { value: events, error } = await orBadInput(async () => searchEvents(db, await eventSearchOf(db, q)), []);
    const last = events.at(-1);
    const next = nextPage('/console/events', q, events.length, last && { at: last.created_at, id: last.id });
    renderPage(res, {
      title: 'Events',
      template: EVENTS,
      data: { q, error, notice: replayNotice(q), next, csrf: csrfToken(req, res), events: events.map(eventView) },
      status: error ? 400 : 200,
    });
  });

  // Replay one event (id) or every failed event matching the filter; over CONFIRM_ABOVE asks first.
  // The same replay as `make replay` (packages/domain/src/replay): select, mark, give each a job.
  // CSRF: every form carries its session's token (a cookie), checked and rotated here (../csrf.ts).
  router.post('/events/replay', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const form = req.body as Query;
    if (!checkCsrf(req, res, form.csrf)) {
      res.status(403).type('text').send('refused: the form is not one of this console (missing or wrong CSRF token)');
      return;
    }
    if (!webhookQueue) {
      res.status(503).type('text').send('replay needs the webhooks queue, which this console was started without');
      return;
    }
    const { value: found, error } = await orBadInput(async () => {
      const companyId = form.id ? undefined : await companyIdOf(db, form.company);
      return findReplayCandidates(db, replaySelectionOf(form, companyId));
    }, undefined);
    if (!found) {
      res.status(400).type('text').send(error);
      return;
    }
    const confirm = confirmationOf(form, found.rows.length);
    if (confirm) {
      const data = { count: found.rows.length, fields: confirm.fields, csrf: csrfToken(req, res) };
      renderPage(res, { title: 'Replay events', template: CONFIRM, data });
      return;
    }
    const { marked } = await replayEvents(db, found.rows, ['failed'], (rows) =>
      ensureWebhookJobs(webhookQueue, rows.map(webhookJobData)),
    );
    res.redirect(303, `/console/events?status=pending&replayed=${marked.length}`);
  });
  return router;
}
