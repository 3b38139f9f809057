import express, { type Request, type Response } from 'express';
import { type Db } from '@callsync/db';
import { agentVersionsPerDay } from '@callsync/db/ops';
import { agentVersionReports, MIN_SAMPLE, type VersionReport } from '@callsync/domain';
import { AGENT, AGENTS } from './agents.templates';
import { agentsView, agentView, versionChart } from './agents.view';
import { companyIdOf } from './filters';
import { orBadInput, parseTime, type Query } from './query';
import { renderPage } from './render';

/** Versions side by side on an agent's page; the list shows each agent's newest two. */
const VERSIONS_SHOWN = 6;
const CHART_DAYS = 30;
const HEAD = '<link rel="stylesheet" href="/console/assets/agents.css">';

/** The pages' filter (company by id or name, time range); RangeError names a bad field. */
async function filterOf(db: Db, q: Query) {
  const companyId = await companyIdOf(db, q.company);
  return { companyId, from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to') };
}

/** /console/agents and /console/agents/:agent_id: agent versions compared, from Postgres. */
export function agentsRouter(db: Db): express.Router {
  const router = express.Router();

  router.get('/agents', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const { value: agents, error } = await orBadInput(
      async () => agentsView(await agentVersionReports(db, { ...(await filterOf(db, q)), versions: 2 }), q),
      [],
    );
    renderPage(res, {
      title: 'Agents',
      template: AGENTS,
      data: { q, action: '/console/agents', agents, error, minSample: MIN_SAMPLE },
      status: error ? 400 : 200,
      head: HEAD,
    });
  });

  router.get('/agents/:agent_id', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const agentId = String(req.params.agent_id);
    const { value: versions, error } = await orBadInput(async (): Promise<VersionReport[]> => {
      const f = await filterOf(db, q);
      return (await agentVersionReports(db, { ...f, agentId, versions: VERSIONS_SHOWN }))[0]?.versions ?? [];
    }, []);
    renderPage(res, {
      title: `Agent ${agentId}`,
      template: AGENT,
      data: { q, error, minSample: MIN_SAMPLE, ...agentView(agentId, versions, q) },
      status: error ? 400 : versions.length ? 200 : 404,
      head: HEAD,
    });
  });

  // Per version and day (UTC): success rate (%) and median e2e p50, over the range (default 30 days).
  router.get('/agents/:agent_id/chart.json', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const agentId = String(req.params.agent_id);
    const { value: f, error } = await orBadInput(async () => filterOf(db, q), undefined);
    if (!f) {
      res.status(400).json({ error });
      return;
    }
    const to = f.to ?? new Date();
    const from = f.from ?? new Date(to.getTime() - CHART_DAYS * 86400_000);
    const shown = (await agentVersionReports(db, { ...f, agentId, versions: VERSIONS_SHOWN }))[0]?.versions ?? [];
    const versions = shown.map((v) => v.agent_version);
    const days = await agentVersionsPerDay(db, { ...f, from, to, agentId, versions });
    res.json(versionChart(versions, days, { from, to, fromGiven: Boolean(f.from) }));
  });
  return router;
}
