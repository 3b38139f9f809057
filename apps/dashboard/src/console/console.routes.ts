import { readFileSync } from 'node:fs';
import { Eta } from 'eta';
import express, { type Request, type Response } from 'express';
import { ensureWebhookJobs, webhookJobData, type WebhookQueue } from '@callsync/queue';
import {
  callsPerDay,
  eventsPerMinute,
  findEventsToReplay,
  markForReplay,
  searchEvents,
  type EventRow,
  type WebhookEventStatus,
  findCallSession,
  findChatSession,
  findCompany,
  findDeliveriesOf,
  findFunctionCallsOf,
  findWebhookEvents,
  searchCalls,
  type CallRow,
  type Db,
  type Keyset,
} from '@callsync/db';
import { maskPhoneNumber, redact } from '@callsync/logger';
import { checkCsrf, csrfToken } from '../csrf';
import { CALLS, CHARTS, CHARTS_JS, CONFIRM, EVENTS, LAYOUT, TIMELINE } from './templates';

const eta = new Eta({ autoEscape: true, autoTrim: false });
const PAGE = 50;

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:2rem;align-items:center;padding:.7rem 1.5rem;background:#1d2330;color:#fff}
header nav a{color:#cfd6e4;margin-right:1.2rem;text-decoration:none}header nav a:hover{color:#fff}
main{padding:1rem 1.5rem;max-width:1240px}h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e6e8ec;vertical-align:top}th{background:#eef0f4;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;margin-bottom:1rem}
.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}.filters input,.filters select{padding:.3rem;min-width:9rem}
button{padding:.4rem 1rem;background:#2f5bea;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b00020}.status-failed,.status-error{color:#b00020;font-weight:600}.status-pending,.status-in_progress{color:#9a6700}
dl.session{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;box-shadow:0 1px 2px #0001}
.replay-all{margin:0 0 .8rem}.notice{color:#1a7f37}dt{color:#555}pre{background:#fff;padding:.8rem;overflow:auto;max-height:24rem;border:1px solid #e6e8ec}details{margin:.3rem 0}`;

function page(res: Response, title: string, template: string, data: object, status = 200): void {
  const body = eta.renderString(template, data);
  res.status(status).type('html').send(eta.renderString(LAYOUT, { title, body }));
}

const when = (d: Date | null | undefined) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '');

function outcome(c: CallRow): string {
  if (c.call_status === 'in_progress') return 'in progress';
  if (c.call_successful === true) return 'successful';
  if (c.call_successful === false) return 'unsuccessful';
  return c.disconnection_reason ?? '';
}

/** A keyset cursor in a URL: ISO time and row id. */
function parseAfter(text: unknown): Keyset | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(.+)_(\d+)$/.exec(text);
  const at = m ? new Date(m[1]!) : undefined;
  return at && !Number.isNaN(at.getTime()) ? { at, id: m![2]! } : undefined;
}

/** The link to the page after a full one: the same filter, starting after its last row. */
function nextPage(
  path: string,
  q: Record<string, string | undefined>,
  rows: number,
  last: Keyset | null | undefined,
): string | undefined {
  if (rows < PAGE || !last) return undefined;
  const filter = Object.entries(q).filter((e): e is [string, string] => e[0] !== 'after' && typeof e[1] === 'string');
  return `${path}?${new URLSearchParams([...filter, ['after', `${last.at.toISOString()}_${last.id}`]]).toString()}`;
}

function parseTime(text: unknown, name: string): Date | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const d = new Date(text.length === 16 ? `${text}:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new RangeError(`${name}: "${text}" is not a date and time`);
  return d;
}

const STATUSES: readonly WebhookEventStatus[] = ['pending', 'processed', 'failed', 'skipped'];
/** A replay of more events than this asks for confirmation first. */
export const CONFIRM_ABOVE = 100;

/** uPlot's files, served from the package (never from a CDN). */
const UPLOT = {
  'uPlot.iife.min.js': ['js', require.resolve('uplot/dist/uPlot.iife.min.js')],
  'uPlot.min.css': ['css', require.resolve('uplot/dist/uPlot.min.css')],
} as const;

export interface ConsoleOptions {
  /** Where replayed events get their jobs. */
  webhookQueue?: WebhookQueue;
}

/** The calls page's status filter for calls reconciliation gave up on. */
const GIVEN_UP = 'given_up';

/** The console's pages: calls, one call's timeline, events with replay, charts; all from Postgres. */
export function consoleRouter(db: Db, options: ConsoleOptions = {}): express.Router {
  const router = express.Router();
  // CSRF: every form carries its session's token (a cookie), checked and rotated on POST (../csrf.ts).

  router.get('/assets/console.css', (_req, res) => {
    res.type('css').set('cache-control', 'max-age=3600').send(CSS);
  });
  router.get('/assets/charts.js', (_req, res) => {
    res.type('js').set('cache-control', 'max-age=3600').send(CHARTS_JS);
  });
  for (const [name, [type, file]] of Object.entries(UPLOT)) {
    const text = readFileSync(file, 'utf8');
    router.get(`/assets/${name}`, (_req, res) => {
      res.type(type).set('cache-control', 'max-age=86400').send(text);
    });
  }

  router.get('/calls', async (req: Request, res: Response) => {
    const q = req.query as Record<string, string | undefined>;
    let error: string | undefined;
    let calls: CallRow[] = [];
    try {
      let companyId: string | undefined;
      if (q.company) {
        companyId = (await findCompany(db, q.company))?.id;
        if (!companyId) throw new RangeError(`company: no company "${q.company}"`);
      }
      if (q.digits && !/^\d{2,15}$/.test(q.digits))
        throw new RangeError('caller: give the last 2 to 15 digits of the number');
      if (q.version && !/^\d{1,9}$/.test(q.version)) throw new RangeError('version: give an agent version number');
      calls = await searchCalls(db, {
        id: q.id || undefined,
        companyId,
        // "given up": in_progress calls reconciliation stopped polling (Retell did not know them).
        status: q.status === GIVEN_UP ? undefined : q.status || undefined,
        givenUp: q.status === GIVEN_UP || undefined,
        agentId: q.agent || undefined,
        agentVersion: q.version ? Number(q.version) : undefined,
        callerDigits: q.digits || undefined,
        from: parseTime(q.from, 'from'),
        to: parseTime(q.to, 'to'),
        after: parseAfter(q.after),
        limit: PAGE,
      });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      error = err.message;
    }
    const last = calls.at(-1);
    const next = nextPage('/console/calls', q, calls.length, last?.started_at && { at: last.started_at, id: last.id });
    page(
      res,
      'Calls',
      CALLS,
      {
        q,
        error,
        next,
        calls: calls.map((c) => ({
          ...c,
          started: when(c.started_at),
          company: c.company_name ?? c.company_id ?? 'unmapped',
          customer: maskPhoneNumber((c.direction === 'outbound' ? c.to_number : c.from_number) ?? ''),
          outcome: outcome(c),
        })),
      },
      error ? 400 : 200,
    );
  });

  router.get('/calls/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const call = await findCallSession(db, id);
    const chat = call ? undefined : await findChatSession(db, id);
    const session = call ?? chat;
    const [events, functions, forwards] = await Promise.all([
      findWebhookEvents(db, id, { chat: Boolean(chat) }),
      findFunctionCallsOf(db, id),
      findDeliveriesOf(db, id),
    ]);
    interface Entry {
      t: Date;
      kind: string;
      what: string;
      status: string;
      details: string;
    }
    const entries: Entry[] = [
      ...events.map((e): Entry => ({
        t: e.created_at,
        kind: 'event',
        what: `${e.event_type} (${e.source})`,
        status: e.status,
        details: `delivered ${e.delivery_count}×, attempts ${e.attempts}${e.replay_count ? `, replayed ${e.replay_count}×` : ''}${e.error ? ` - ${e.error}` : ''}`,
      })),
      ...functions.map((f): Entry => ({
        t: f.created_at,
        kind: 'function',
        what: `function ${f.name}`,
        status: f.status,
        details: `${f.duration_ms ?? '?'} ms${f.replays ? `, answered ${f.replays}× from the record` : ''}${f.error ? ` - ${f.error}` : ''}`,
      })),
      ...forwards.map((d): Entry => ({
        t: d.created_at,
        kind: 'forward',
        what: `forward ${d.event_type} to destination ${d.destination_id}`,
        status: d.status,
        details: `attempts ${d.attempts}${d.last_status_code ? `, last answer ${d.last_status_code}` : ''}${d.last_error ? ` - ${d.last_error}` : ''}`,
      })),
    ];
    if (call?.reconcile_checked_at)
      entries.push({
        t: call.reconcile_checked_at,
        kind: 'reconcile',
        what: 'reconciliation asked Retell',
        status: call.reconcile_stopped_at ? 'stopped polling' : '',
        details: `not found ${call.reconcile_not_found_count}×, failed ${call.reconcile_failure_count}×, analysis checks ${call.reconcile_analysis_checks}`,
      });
    const timeline = entries.sort((a, b) => a.t.getTime() - b.t.getTime()).map((e) => ({ ...e, at: when(e.t) }));
    const shown = (v: unknown): string =>
      v instanceof Date ? when(v) : typeof v === 'object' ? JSON.stringify(redact(v)) : maskPhoneNumber(String(v));
    const facts: [string, string][] = session
      ? Object.entries(session)
          .filter(([k, v]) => v !== null && !['transcript', 'analysis', 'transcript_object'].includes(k))
          .map(([k, v]) => [k, shown(v)])
      : [];
    page(
      res,
      chat ? `Chat ${id}` : `Call ${id}`,
      TIMELINE,
      {
        id,
        session,
        facts,
        timeline,
        payloads: events.map((e) => ({
          id: e.id,
          event: e.event_type,
          json: JSON.stringify(redact(e.payload), null, 2),
        })),
      },
      session || events.length ? 200 : 404,
    );
  });
  router.get('/events', async (req: Request, res: Response) => {
    const q = req.query as Record<string, string | undefined>;
    let error: string | undefined;
    let events: EventRow[] = [];
    try {
      const f = await eventFilter(db, q);
      events = await searchEvents(db, { ...f, after: parseAfter(q.after), limit: PAGE });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      error = err.message;
    }
    const last = events.at(-1);
    const next = nextPage('/console/events', q, events.length, last && { at: last.created_at, id: last.id });
    page(
      res,
      'Events',
      EVENTS,
      {
        q,
        error,
        notice:
          typeof q.replayed === 'string' ? `${q.replayed} event(s) replayed: a worker applies them now.` : undefined,
        next,
        csrf: csrfToken(req, res),
        events: events.map((e) => ({ ...e, received: when(e.created_at), subject: e.call_id ?? e.chat_id })),
      },
      error ? 400 : 200,
    );
  });

  // Replay one event (id) or every failed event matching the filter; over CONFIRM_ABOVE asks first.
  // The same steps as `make replay`: select, mark (replay_count + 1), give each a job.
  router.post('/events/replay', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    if (!checkCsrf(req, res, form.csrf)) {
      res.status(403).type('text').send('refused: the form is not one of this console (missing or wrong CSRF token)');
      return;
    }
    if (!options.webhookQueue) {
      res.status(503).type('text').send('replay needs the webhooks queue, which this console was started without');
      return;
    }
    let rows;
    try {
      if (form.id) {
        if (!/^\d+$/.test(form.id)) throw new RangeError(`id: "${form.id}" is not an event id`);
        rows = await findEventsToReplay(db, { statuses: ['failed'], eventIds: [form.id], limit: 1 });
      } else {
        const f = await eventFilter(db, { ...form, status: 'failed' });
        rows = await findEventsToReplay(db, {
          statuses: ['failed'],
          eventTypes: f.eventTypes,
          companyId: f.companyId,
          since: f.from,
          until: f.to,
          limit: 10_000,
        });
      }
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      res.status(400).type('text').send(err.message);
      return;
    }
    rows = rows.filter((r) => r.pruned_at === null);
    if (rows.length > CONFIRM_ABOVE && form.confirm !== 'yes') {
      const fields = ['event', 'company', 'from', 'to'].flatMap((k) => (form[k] ? [[k, form[k]!]] : []));
      page(res, 'Replay events', CONFIRM, { count: rows.length, fields, csrf: csrfToken(req, res) });
      return;
    }
    const marked = await markForReplay(
      db,
      rows.map((r) => r.id),
      ['failed'],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    await ensureWebhookJobs(
      options.webhookQueue,
      marked.map((id) => webhookJobData(byId.get(id)!)),
    );
    res.redirect(303, `/console/events?status=pending&replayed=${marked.length}`);
  });

  router.get('/charts', (_req, res) => page(res, 'Charts', CHARTS, {}));
  router.get('/charts.json', async (_req, res) => {
    const [minutes, days] = await Promise.all([
      eventsPerMinute(db, new Date(Date.now() - 24 * 3600_000)),
      callsPerDay(db, new Date(Date.now() - 14 * 86400_000)),
    ]);
    const minute = Math.floor(Date.now() / 60_000) * 60;
    const today = Math.floor(Date.now() / 86_400_000) * 86400;
    res.json({
      eventsRange: [minute - 24 * 3600, minute + 60],
      callsRange: [today - 13.5 * 86400, today + 0.5 * 86400],
      events: toSeries(
        minutes.map((m) => ({ x: m.minute.getTime() / 1000, label: m.status, value: m.events })),
        minute - 24 * 3600,
        minute,
        60,
      ),
      calls: toSeries(
        days.map((d) => ({
          x: Date.parse(`${d.day}T00:00:00Z`) / 1000,
          label: `${d.company} · ${d.outcome}`,
          value: d.calls,
        })),
        today - 13 * 86400,
        today,
        86400,
      ),
    });
  });
  return router;
}

/**
 * Points to uPlot's shape: one x axis with every step from `from` to `to` (so bars keep their width
 * and gaps show as 0), one series per label.
 */
function toSeries(points: { x: number; label: string; value: number }[], from: number, to: number, step: number) {
  const x: number[] = [];
  for (let v = from; v <= to; v += step) x.push(v);
  const index = new Map(x.map((v, i) => [v, i]));
  const labels = [...new Set(points.map((p) => p.label))].sort();
  const series = labels.map((label) => ({ label, values: x.map(() => 0) }));
  for (const p of points) {
    const i = index.get(p.x);
    if (i !== undefined) series[labels.indexOf(p.label)]!.values[i] = p.value;
  }
  return { x, series };
}

/** The events page's filter from a query or a form; RangeError names a bad field. */
async function eventFilter(db: Db, q: Record<string, string | undefined>) {
  const status = q.status || undefined;
  if (status && !STATUSES.includes(status as WebhookEventStatus))
    throw new RangeError(`status: "${status}" is not one of ${STATUSES.join(', ')}`);
  let companyId: string | undefined;
  if (q.company) {
    companyId = (await findCompany(db, q.company))?.id;
    if (!companyId) throw new RangeError(`company: no company "${q.company}"`);
  }
  return {
    statuses: status ? [status as WebhookEventStatus] : undefined,
    eventTypes: q.event ? [q.event] : undefined,
    companyId,
    from: parseTime(q.from, 'from'),
    to: parseTime(q.to, 'to'),
  };
}
