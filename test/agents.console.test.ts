import { sql } from 'kysely';
import request from 'supertest';
import { createDashboardApp } from '@callsync/dashboard';
import { addCompany } from '@callsync/db/tenants';
import { Queue } from 'bullmq';
import { useTestDatabase } from './support/database';
import { serviceUrls } from './support/env';

/** /console/agents and /console/agents/:agent_id over HTTP: versions compared, flags only beyond noise. */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
let queue: Queue;
let weber: string;

beforeAll(async () => {
  queue = new Queue(`agents-console-${Date.now()}`, { connection: { url: serviceUrls().redisUrl } });
  weber = (await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin')).id;
  await addCompany(t.db, 'Kanzlei Roth', 'Europe/Berlin');
  // agent_cmp: v7 succeeds on 3 of 4 calls at ~850 ms, v8 on 1 of 2 at ~1050 ms; 200 calls each, last 5 days.
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, agent_id, agent_version,
      call_successful, user_sentiment, duration_ms, cost_cents, latency)
    select 'call_v' || v || '_' || i, 'ended', now() - make_interval(mins => i * 30), ${weber}::bigint, 'agent_cmp', v,
      case when v = 7 then i % 4 <> 0 else i % 2 = 0 end, 'Positive', 60000, 10,
      jsonb_build_object('e2e', jsonb_build_object('p50', case when v = 7 then 800 else 1000 end + i % 100))
    from generate_series(1, 200) i, (values (7), (8)) as versions(v)`.execute(t.db);
  // agent_small: the same gap on 10 calls per version is noise.
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, agent_id, agent_version, call_successful, latency)
    select 'call_s' || v || '_' || i, 'ended', now() - make_interval(mins => i), 'agent_<small>', v,
      case when v = 1 then i % 4 <> 0 else i % 2 = 0 end,
      jsonb_build_object('e2e', jsonb_build_object('p50', case when v = 1 then 800 else 1500 end + i))
    from generate_series(1, 10) i, (values (1), (2)) as versions(v)`.execute(t.db);
  await sql`insert into function_calls (call_id, name, args, invocation_key, status, duration_ms)
    select 'call_v8_' || i, 'check_availability', '{}'::jsonb, 'k' || i, case when i % 5 = 0 then 'timeout' else 'ok' end, i
    from generate_series(1, 100) i`.execute(t.db);
});
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

const app = () => createDashboardApp({ queues: [queue], db: t.db, auth: AUTH });
const get = (path: string) => request(app()).get(path).auth(AUTH.user, AUTH.password);
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('console: agents', () => {
  it('without credentials: 401', async () => {
    for (const path of ['/console/agents', '/console/agents/agent_cmp', '/console/agents/agent_cmp/chart.json'])
      expect((await request(app()).get(path)).status).toBe(401);
  });

  it('lists agents with their newest two versions, sample sizes and only the differences beyond noise', async () => {
    const res = await get('/console/agents');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/console/agents"');
    const page = text(res.text);
    expect(page).toContain('v8 200 50.0 % (n=200) 1049 ms');
    expect(page).toContain('v7 200 75.0 % (n=200) 849 ms');
    expect(page).toContain('success worse than v7 (z = -5.16)');
    expect(page).toContain('e2e latency worse than v7');
    // The small agent's gap is as wide, on 10 calls: not flagged, and its id is escaped.
    expect(res.text).toContain('agent_&lt;small&gt;');
    expect(res.text).not.toContain('agent_<small>');
    // Agents are listed by id: agent_<small> sorts before agent_cmp.
    const small = page.slice(page.indexOf('agent_&lt;small&gt;'), page.indexOf('agent_cmp'));
    expect(small).toContain('v2 10');
    expect(small).not.toContain('worse');
    expect(res.text).toContain('two-proportion z-test at 95%');
  });

  it('an agent’s page: versions side by side, flagged cells, functions, and links to each version’s calls', async () => {
    const res = await get('/console/agents/agent_cmp');
    expect(res.status).toBe(200);
    const page = text(res.text);
    expect(page).toContain('Calls (sample size) 200 200');
    expect(page).toContain('Success rate (n analyzed) 50.0 % (n=200) worse: z = -5.16 75.0 % (n=200)');
    expect(page).toMatch(/e2e p50: median \[95% interval\] \(n\) 1049 ms \[1042–1057\] \(n=200\) worse: 95% intervals/);
    expect(page).toContain('Error rate 0.0 % 0.0 %');
    expect([...res.text.matchAll(/<td class="flag-worse">/g)]).toHaveLength(2);
    expect(page).toContain('v8 check_availability 100 20.0 % (n=100) 90 ms');
    expect(res.text).toContain('id="success-chart"');
    const link = /href="(\/console\/calls\?agent=agent_cmp&amp;version=8)"/
      .exec(res.text)![1]!
      .replaceAll('&amp;', '&');
    const calls = await get(link);
    expect(calls.status).toBe(200);
    const shown = [...calls.text.matchAll(/>(call_v\d_\d+)</g)].map((m) => m[1]!);
    expect(shown).toHaveLength(50);
    expect(shown.every((c) => c.startsWith('call_v8_'))).toBe(true);
  });

  it('the company filter: another company has no calls of this agent; an unknown one is a 400 naming it', async () => {
    expect(text((await get('/console/agents/agent_cmp?company=Praxis%20Weber')).text)).toContain(
      'Calls (sample size) 200 200',
    );
    const roth = await get('/console/agents/agent_cmp?company=Kanzlei%20Roth');
    expect(roth.status).toBe(404);
    expect(roth.text).toContain('No calls of agent_cmp match.');
    const list = await get('/console/agents?company=Kanzlei%20Roth');
    expect(list.text).toContain('No calls with an agent version match.');
    const bad = await get('/console/agents?company=Nobody');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('company: no company &quot;Nobody&quot;');
  });

  it('chart data: per version and day, success rate and median e2e, summing to each version’s calls', async () => {
    const res = await get('/console/agents/agent_cmp/chart.json');
    expect(res.status).toBe(200);
    const data = res.body as {
      x: number[];
      versions: { version: number; success: (number | null)[]; e2e: (number | null)[]; calls: number[] }[];
    };
    // From the first day with calls (200 half-hours: 4 to 5 days) to today.
    expect(data.x.length).toBeGreaterThanOrEqual(5);
    expect(data.x.length).toBeLessThanOrEqual(6);
    expect(data.versions.map((v) => v.version)).toEqual([8, 7]);
    for (const v of data.versions) expect(v.calls.reduce((s, c) => s + c, 0)).toBe(200);
    const v8days = data.versions[0]!.success.filter((s) => s !== null);
    expect(v8days.length).toBeGreaterThanOrEqual(4);
    expect(data.versions[0]!.e2e.filter((e) => e !== null).every((e) => e! >= 1000 && e! < 1100)).toBe(true);
  });
});
