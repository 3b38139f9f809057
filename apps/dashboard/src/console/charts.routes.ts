import express from 'express';
import { type Db } from '@callsync/db';
import { callsPerDay, eventsPerMinute } from '@callsync/db/ops';
import { chartsData, chartWindows } from './charts';
import { renderPage } from './render';
import { CHARTS } from './templates';

/** /console/charts and the data its script draws (/console/charts.json). */
export function chartsRouter(db: Db): express.Router {
  const router = express.Router();
  router.get('/charts', (_req, res) => renderPage(res, { title: 'Charts', template: CHARTS, data: {} }));
  router.get('/charts.json', async (_req, res) => {
    const now = Date.now();
    const since = chartWindows(now);
    const [minutes, days] = await Promise.all([eventsPerMinute(db, since.events), callsPerDay(db, since.calls)]);
    res.json(chartsData(minutes, days, now));
  });
  return router;
}
