import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { addCompany } from '@callsync/db/tenants';
import { createTestDatabase, type TestDatabase } from './support/database';
import { cliEnvironment } from './support/env';
import { assertBuilt, CLI, run } from './support/processes';

/** `make stats ARGS="--agents [--company NAME] [--json]"`: versions side by side, against the real database. */
let t: TestDatabase;
const prefix = `{callsync-agents-${randomUUID().slice(0, 8)}}`;

beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
  const weber = (await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin')).id;
  const roth = (await addCompany(t.db, 'Kanzlei Roth', 'Europe/Berlin')).id;
  // agent_cmp: v7 succeeds on 3 of 4 calls at ~850 ms, v8 on 1 of 2 at ~1050 ms; 200 calls each.
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, agent_id, agent_version,
      call_successful, user_sentiment, duration_ms, cost_cents, latency, llm_token_usage)
    select 'call_v' || v || '_' || i, 'ended', now() - make_interval(mins => i), ${weber}::bigint, 'agent_cmp', v,
      case when v = 7 then i % 4 <> 0 else i % 2 = 0 end, 'Positive', 60000, 10,
      jsonb_build_object('e2e', jsonb_build_object('p50', case when v = 7 then 800 else 1000 end + i % 100)),
      '{"values": [], "average": 500, "num_requests": 3}'::jsonb
    from generate_series(1, 200) i, (values (7), (8)) as versions(v)`.execute(t.db);
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, agent_id, agent_version, call_successful)
    select 'call_roth_' || i, 'ended', now() - make_interval(mins => i), ${roth}::bigint, 'agent_roth', 3, true
    from generate_series(1, 5) i`.execute(t.db);
  await sql`insert into function_calls (call_id, name, args, invocation_key, status, duration_ms)
    select 'call_v8_' || i, 'check_availability', '{}'::jsonb, 'k' || i, case when i % 5 = 0 then 'timeout' else 'ok' end, i
    from generate_series(1, 100) i`.execute(t.db);
});
afterAll(() => t.drop());

function cli(...args: string[]) {
  return run(CLI, cliEnvironment(t.url, prefix), args);
}

describe('make stats --agents', () => {
  it('JSON: each agent’s newest versions, their numbers, and what changed beyond noise', async () => {
    const p = cli('stats', '--agents', '--json');
    expect(await p.exited).toBe(0);
    const data = JSON.parse(p.output());
    expect(data.agents.map((a: { agent_id: string }) => a.agent_id)).toEqual(['agent_cmp', 'agent_roth']);
    const [v8, v7] = data.agents[0].versions;
    expect(v8).toMatchObject({
      agent_version: 8,
      calls: 200,
      analyzed: 200,
      success_rate: 0.5,
      e2e_p50_median: 1049,
      tokens_per_call: 1500,
      cost_cents_per_minute: 10,
      compared_with: 7,
      functions: [
        { name: 'check_availability', invocations: 100, failures: 20, failure_rate: 0.2, p90_duration_ms: 90 },
      ],
    });
    expect(v8.flags.map((f: { metric: string; verdict: string }) => `${f.metric} ${f.verdict}`)).toEqual([
      'success_rate worse',
      'e2e_p50_median worse',
    ]);
    expect(v7).toMatchObject({
      agent_version: 7,
      success_rate: 0.75,
      e2e_p50_median: 849,
      flags: [],
      compared_with: null,
    });
  });

  it('--company shows that company’s agents only; text output names the flagged differences and the rule', async () => {
    const p = cli('stats', '--agents', '--company', 'Kanzlei Roth', '--json');
    expect(await p.exited).toBe(0);
    expect(JSON.parse(p.output()).agents).toEqual([
      expect.objectContaining({ agent_id: 'agent_roth', versions: [expect.objectContaining({ calls: 5 })] }),
    ]);
    const text = cli('stats', '--agents');
    expect(await text.exited).toBe(0);
    expect(text.output()).toContain('v8 vs v7: success_rate worse (z = -5.16)');
    expect(text.output()).toMatch(/v8\s+200\s+50\.0 \(n=200\)/);
    expect(text.output()).toContain('two-proportion z-test at 95%');
    const unknown = cli('stats', '--agents', '--company', 'Nobody');
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('unknown company "Nobody"');
  });
});
