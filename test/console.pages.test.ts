import { sql } from 'kysely';
import request from 'supertest';
import { createDashboardApp } from '@callsync/dashboard';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { useTestDatabase, truncateAll } from './support/database';
import { body, LIFECYCLE, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

/** The console's server-rendered pages, over HTTP (the browser tests look at them in Chromium). */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
let p: Pipeline;
beforeEach(async () => {
  await truncateAll(t.db);
  p = await startPipeline(t.db);
});
afterEach(() => p.close());

const app = () => createDashboardApp({ queues: [p.queue], db: t.db, webhookQueue: p.queue, auth: AUTH });
const get = (path: string) => request(app()).get(path).auth(AUTH.user, AUTH.password);

async function deliverCall(callId: string, agentId: string): Promise<void> {
  const ids: string[] = [];
  for (const e of LIFECYCLE) ids.push((await p.deliver(body(e, { callId, agentId }))).body.id);
  await p.settled(ids);
}

describe('console pages', () => {
  it('without credentials: 401, and no page', async () => {
    const res = await request(app()).get('/console/calls');
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('<table');
  });

  it('lists calls with masked numbers, filters by company and caller digits, and escapes what it shows', async () => {
    const weber = await addCompany(t.db, 'Praxis <Weber>', 'Europe/Berlin');
    await mapAgent(t.db, 'agent_w', weber.id);
    const a = newCallId();
    const b = newCallId();
    await deliverCall(a, 'agent_w');
    await deliverCall(b, 'agent_other');
    const all = await get('/console/calls');
    expect(all.status).toBe(200);
    expect(all.headers['content-security-policy']).toContain("default-src 'self'");
    expect(all.text).toContain(a);
    expect(all.text).toContain(b);
    expect(all.text).toContain('Praxis &lt;Weber&gt;');
    expect(all.text).not.toContain('<Weber>');
    expect(all.text).not.toContain('+491604366218');
    expect(all.text).toContain('+49****18');
    const byCompany = await get(`/console/calls?company=${weber.id}`);
    expect(byCompany.text).toContain(a);
    expect(byCompany.text).not.toContain(b);
    expect((await get('/console/calls?digits=6218')).text).toContain(a);
    expect((await get('/console/calls?digits=9999')).text).toContain('No calls match.');
    const bad = await get('/console/calls?digits=x');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('give the last 2 to 15 digits');
  });

  it("shows one call's timeline: every event with its counts, the session, and payloads with numbers masked", async () => {
    const callId = newCallId();
    await deliverCall(callId, 'agent_x');
    await p.deliver(body('call_ended', { callId, agentId: 'agent_x' }));
    const res = await get(`/console/calls/${callId}`);
    expect(res.status).toBe(200);
    for (const e of LIFECYCLE) expect(res.text).toContain(`${e} (webhook)`);
    expect(res.text).toContain('delivered 2×');
    expect(res.text).toMatch(/call_status<\/dt><dd>ended/);
    expect(res.text).not.toContain('+491604366218');
    expect((await get('/console/calls/call_nobody')).status).toBe(404);
  });
});

describe('console replay', () => {
  // One browser session: its CSRF token lives in a cookie, and a form repeats it.
  const tokenOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

  it('refuses a POST without the form’s CSRF token, and changes nothing', async () => {
    const res = await request(app())
      .post('/console/events/replay')
      .auth(AUTH.user, AUTH.password)
      .type('form')
      .send({ status: 'failed' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('CSRF');
  });

  it('asks before replaying more than 100 events, then replays them all', async () => {
    await sql`insert into webhook_events (event_type, call_id, dedupe_key, payload, raw_body, status, error, processed_at)
      select 'call_started', 'call_many_' || i, 'many:' || i, '{"event":"call_started","call":{"call_id":"x"}}'::jsonb, null, 'failed', 'boom', now()
      from generate_series(1, 120) i`.execute(t.db);
    const session = request.agent(app());
    const csrf = tokenOf((await session.get('/console/events?status=failed').auth(AUTH.user, AUTH.password)).text);
    expect(csrf).toBeTruthy();
    const ask = await session
      .post('/console/events/replay')
      .auth(AUTH.user, AUTH.password)
      .type('form')
      .send({ csrf, status: 'failed' });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('120 events match this filter. Replay them all?');
    const still = await t.db.selectFrom('webhook_events').select('status').where('status', '=', 'failed').execute();
    expect(still).toHaveLength(120);
    // The token was used once: the confirmation carries the session's next one.
    const next = tokenOf(ask.text);
    expect(next).toBeTruthy();
    expect(next).not.toBe(csrf);
    const done = await session
      .post('/console/events/replay')
      .auth(AUTH.user, AUTH.password)
      .type('form')
      .send({ csrf: next, status: 'failed', confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toContain('replayed=120');
    const replayed = await t.db
      .selectFrom('webhook_events')
      .select(['status', 'replay_count'])
      .where('dedupe_key', 'like', 'many:%')
      .execute();
    expect(replayed.every((r) => r.replay_count === 1 && r.status !== 'failed')).toBe(true);
  });
});

describe('console paging', () => {
  it('pages through calls by keyset: a full page links to the rest, with the filter kept', async () => {
    await sql`insert into retell_call_sessions (call_id, call_status, started_at)
      select 'call_page_' || lpad(i::text, 3, '0'), 'ended', now() - make_interval(mins => i)
      from generate_series(1, 55) i`.execute(t.db);
    const first = await get('/console/calls?status=ended');
    const shown = (html: string) => [...html.matchAll(/>(call_page_\d+)</g)].map((m) => m[1]);
    expect(shown(first.text)).toHaveLength(50);
    const next = /class="next" href="([^"]+)"/.exec(first.text)![1]!.replaceAll('&amp;', '&');
    expect(next).toContain('status=ended');
    const second = await get(next);
    expect(shown(second.text)).toHaveLength(5);
    expect(second.text).not.toContain('class="next"');
    expect(new Set([...shown(first.text), ...shown(second.text)]).size).toBe(55);
  });
});
