import { Eta } from 'eta';
import express, { type Request, type Response } from 'express';
import { agentVersionsPerDay, findCompany, type Db } from '@callsync/db';
import { agentVersionReports, MIN_SAMPLE, type VersionFlag, type VersionReport } from '@callsync/domain';
import { LAYOUT } from './templates';
import { AGENT, AGENTS, AGENTS_CSS, AGENTS_JS } from './agents.templates';

const eta = new Eta({ autoEscape: true, autoTrim: false });
/** Versions side by side on an agent's page; the list shows each agent's newest two. */
const VERSIONS_SHOWN = 6;
const CHART_DAYS = 30;

function page(res: Response, title: string, template: string, data: object, status = 200): void {
  const body = `<link rel="stylesheet" href="/console/assets/agents.css">${eta.renderString(template, data)}`;
  res.status(status).type('html').send(eta.renderString(LAYOUT, { title, body }));
}

type Query = Record<string, string | undefined>;

function parseTime(text: string | undefined, name: string): Date | undefined {
  if (!text) return undefined;
  const d = new Date(text.length === 16 ? `${text}:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new RangeError(`${name}: "${text}" is not a date and time`);
  return d;
}

/** The pages' filter (company by id or name, time range); RangeError names a bad field. */
async function filterOf(db: Db, q: Query) {
  let companyId: string | undefined;
  if (q.company) {
    companyId = (await findCompany(db, q.company))?.id;
    if (!companyId) throw new RangeError(`company: no company "${q.company}"`);
  }
  return { companyId, from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to') };
}

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);
const LABELS: Record<VersionFlag['metric'], string> = {
  success_rate: 'success',
  error_rate: 'errors',
  e2e_p50_median: 'e2e latency',
};

/** The calls page filtered to one version (and the page's company and range). */
function callsHref(agentId: string, version: number, q: Query): string {
  const params = new URLSearchParams({ agent: agentId, version: String(version) });
  for (const k of ['company', 'from', 'to'] as const) if (q[k]) params.set(k, q[k]!);
  return `/console/calls?${params.toString()}`;
}

function keep(q: Query): string {
  const params = new URLSearchParams();
  for (const k of ['company', 'from', 'to'] as const) if (q[k]) params.set(k, q[k]!);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** One row of the side-by-side table: a label and a cell per version, the flagged metric marked. */
function rowsOf(versions: VersionReport[]) {
  const row = (label: string, text: (v: VersionReport) => string, metric?: VersionFlag['metric']) => ({
    label,
    cells: versions.map((v) => ({
      text: text(v),
      flag: metric ? v.flags.find((f) => f.metric === metric) : undefined,
    })),
  });
  const pair = (a: number | null, b: number | null) => `${ms(a)} / ${ms(b)}`;
  return [
    row('Calls (sample size)', (v) => String(v.calls)),
    row('Success rate (n analyzed)', (v) => `${pct(v.success_rate)} (n=${v.analyzed})`, 'success_rate'),
    row(
      'Sentiment positive / neutral / negative / unknown',
      (v) => `${v.sentiment.positive} / ${v.sentiment.neutral} / ${v.sentiment.negative} / ${v.sentiment.unknown}`,
    ),
    row('Voicemail rate', (v) => pct(v.voicemail_rate)),
    row('Transfer rate', (v) => pct(v.transfer_rate)),
    row('Error rate', (v) => pct(v.error_rate), 'error_rate'),
    row('Median duration', (v) =>
      v.median_duration_ms === null ? '–' : `${(v.median_duration_ms / 1000).toFixed(1)} s`,
    ),
    row('Cost per minute', (v) => (v.cost_cents_per_minute === null ? '–' : `${v.cost_cents_per_minute.toFixed(2)} ¢`)),
    row(
      'e2e p50: median [95% interval] (n)',
      (v) =>
        `${ms(v.e2e_p50_median)}${v.e2e_interval ? ` [${v.e2e_interval.low}–${v.e2e_interval.high}]` : ''} (n=${v.latency_calls})`,
      'e2e_p50_median',
    ),
    row('e2e p50: p90', (v) => ms(v.e2e_p50_p90)),
    row('LLM p50: median / p90', (v) => pair(v.llm_p50_median, v.llm_p50_p90)),
    row('TTS p50: median / p90', (v) => pair(v.tts_p50_median, v.tts_p50_p90)),
    row('Tokens per call', (v) => (v.tokens_per_call === null ? '–' : String(Math.round(v.tokens_per_call)))),
  ];
}

/** /console/agents and /console/agents/:agent_id: agent versions compared, from Postgres. */
export function agentsRouter(db: Db): express.Router {
  const router = express.Router();
  router.get('/assets/agents.js', (_req, res) => {
    res.type('js').set('cache-control', 'max-age=3600').send(AGENTS_JS);
  });
  router.get('/assets/agents.css', (_req, res) => {
    res.type('css').set('cache-control', 'max-age=3600').send(AGENTS_CSS);
  });

  router.get('/agents', async (req: Request, res: Response) => {
    const q = req.query as Query;
    try {
      const f = await filterOf(db, q);
      const reports = await agentVersionReports(db, { ...f, versions: 2 });
      const agents = reports.map((a) => ({
        agent_id: a.agent_id,
        href: `/console/agents/${encodeURIComponent(a.agent_id)}${keep(q)}`,
        versions: a.versions.map((v) => ({
          agent_version: v.agent_version,
          callsHref: callsHref(a.agent_id, v.agent_version, q),
          calls: v.calls,
          success: `${pct(v.success_rate)} (n=${v.analyzed})`,
          e2e: ms(v.e2e_p50_median),
          errors: pct(v.error_rate),
          cost: v.cost_cents_per_minute === null ? '–' : `${v.cost_cents_per_minute.toFixed(2)} ¢`,
          flags: v.flags.map((fl) => ({
            verdict: fl.verdict,
            label: `${LABELS[fl.metric]} ${fl.verdict} than v${v.compared_with} (${fl.evidence})`,
          })),
        })),
      }));
      page(res, 'Agents', AGENTS, { q, action: '/console/agents', agents, minSample: MIN_SAMPLE });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      page(
        res,
        'Agents',
        AGENTS,
        { q, action: '/console/agents', agents: [], error: err.message, minSample: MIN_SAMPLE },
        400,
      );
    }
  });

  router.get('/agents/:agent_id', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const agentId = String(req.params.agent_id);
    const action = `/console/agents/${encodeURIComponent(agentId)}`;
    let error: string | undefined;
    let versions: VersionReport[] = [];
    try {
      const f = await filterOf(db, q);
      versions = (await agentVersionReports(db, { ...f, agentId, versions: VERSIONS_SHOWN }))[0]?.versions ?? [];
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      error = err.message;
    }
    page(
      res,
      `Agent ${agentId}`,
      AGENT,
      {
        q,
        action,
        error,
        agentId,
        minSample: MIN_SAMPLE,
        versions: versions.map((v) => ({ ...v, callsHref: callsHref(agentId, v.agent_version, q) })),
        rows: rowsOf(versions),
        functions: versions.flatMap((v) =>
          v.functions.map((fn) => ({
            ...fn,
            failure: `${pct(fn.failure_rate)} (n=${fn.finished})`,
            p90: ms(fn.p90_duration_ms),
          })),
        ),
        chartSrc: `${action}/chart.json${keep(q)}`,
      },
      error ? 400 : versions.length ? 200 : 404,
    );
  });

  // Per version and day (UTC): success rate (%) and median e2e p50, over the range (default 30 days).
  router.get('/agents/:agent_id/chart.json', async (req: Request, res: Response) => {
    const q = req.query as Query;
    const agentId = String(req.params.agent_id);
    let f;
    try {
      f = await filterOf(db, q);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      res.status(400).json({ error: err.message });
      return;
    }
    const to = f.to ?? new Date();
    const from = f.from ?? new Date(to.getTime() - CHART_DAYS * 86400_000);
    const shown = (await agentVersionReports(db, { ...f, agentId, versions: VERSIONS_SHOWN }))[0]?.versions ?? [];
    const days = await agentVersionsPerDay(db, {
      ...f,
      from,
      to,
      agentId,
      versions: shown.map((v) => v.agent_version),
    });
    // From the first day with calls (or the range's start when a from is given) to the range's end.
    const firstDay = f.from ? from : (days.map((d) => d.day).sort((a, b) => a.getTime() - b.getTime())[0] ?? to);
    const x: number[] = [];
    for (let d = Math.floor(firstDay.getTime() / 86400_000) * 86400; d <= to.getTime() / 1000; d += 86400) x.push(d);
    const index = new Map(x.map((v, i) => [v, i]));
    const versions = shown.map((v) => ({
      version: v.agent_version,
      success: x.map((): number | null => null),
      e2e: x.map((): number | null => null),
      calls: x.map(() => 0),
    }));
    for (const d of days) {
      const i = index.get(d.day.getTime() / 1000);
      const series = versions.find((v) => v.version === d.agent_version);
      if (i === undefined || !series) continue;
      series.calls[i] = d.calls;
      series.success[i] = d.analyzed ? Math.round((d.successful / d.analyzed) * 1000) / 10 : null;
      series.e2e[i] = d.e2e_p50_median;
    }
    res.json({ x, versions });
  });
  return router;
}
