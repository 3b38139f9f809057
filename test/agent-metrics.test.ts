import { sql } from 'kysely';
import { Metrics, startMetricsServer } from '@callsync/metrics';
import { useTestDatabase } from './support/database';

/** The per-agent version gauges on /metrics: newest and previous version, registered agents only. */
const t = useTestDatabase();

async function scrape(metrics: Metrics): Promise<string> {
  const { server, port } = await startMetricsServer(0, metrics, { host: '127.0.0.1' });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    return await res.text();
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** The value of the series with exactly these labels (besides service). */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    delete got.service;
    if (JSON.stringify(got) === JSON.stringify(labels)) return Number(m[3]);
  }
  return undefined;
}

describe('agent version gauges', () => {
  it('newest and previous version per registered agent: version, calls, success, e2e p90, function failures', async () => {
    await sql`insert into retell_agents (agent_id) values ('agent_reg')`.execute(t.db);
    // v3 (old, outside the week), v4 and v5 of agent_reg; agent_stray is not registered.
    await sql`insert into retell_call_sessions (call_id, call_status, started_at, agent_id, agent_version, call_successful, latency)
      select 'c' || v || '_' || i, 'ended', now() - make_interval(hours => case when v = 3 then 24 * 10 else i end),
        'agent_reg', v, i % 10 < case v when 4 then 8 else 5 end,
        jsonb_build_object('e2e', jsonb_build_object('p50', v * 200 + i))
      from generate_series(1, 50) i, (values (3), (4), (5)) as versions(v)`.execute(t.db);
    await sql`insert into retell_call_sessions (call_id, call_status, started_at, agent_id, agent_version, call_successful)
      values ('stray', 'ended', now(), 'agent_stray', 1, true)`.execute(t.db);
    await sql`insert into function_calls (call_id, name, args, invocation_key, status, duration_ms)
      select 'c5_' || i, 'book', '{}'::jsonb, 'k' || i, case when i % 4 = 0 then 'error' else 'ok' end, 100
      from generate_series(1, 40) i`.execute(t.db);
    const metrics = new Metrics('worker', { processMetrics: false });
    metrics.watchState(t.db, [], { cacheMs: 0 });
    const text = await scrape(metrics);
    const newest = { agent: 'agent_reg', slot: 'newest' };
    const previous = { agent: 'agent_reg', slot: 'previous' };
    expect(value(text, 'callsync_agent_version', newest)).toBe(5);
    expect(value(text, 'callsync_agent_version', previous)).toBe(4);
    expect(value(text, 'callsync_agent_version_calls', newest)).toBe(50);
    expect(value(text, 'callsync_agent_version_analyzed_calls', previous)).toBe(50);
    expect(value(text, 'callsync_agent_version_success_rate', newest)).toBe(0.5);
    expect(value(text, 'callsync_agent_version_success_rate', previous)).toBe(0.8);
    // p90 of 1001..1050 is the 45th value: 1045 ms.
    expect(value(text, 'callsync_agent_version_e2e_p90_seconds', newest)).toBe(1.045);
    expect(value(text, 'callsync_agent_version_function_failure_rate', newest)).toBe(0.25);
    expect(value(text, 'callsync_agent_version_function_failure_rate', previous)).toBeUndefined();
    expect(text).not.toContain('agent_stray');
  });
});
