import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import { type Db } from '@callsync/db';
import { addCompany } from '@callsync/db/tenants';
import {
  agentFunctionStats,
  agentVersionStats,
  agentVersionsPerDay,
  e2eMedianIntervals,
  listAgentVersions,
} from '@callsync/db/ops';
import {
  agentFunctionStatsQuery,
  agentVersionStatsQuery,
  agentVersionsPerDayQuery,
  e2eMedianIntervalsQuery,
  listAgentVersionsQuery,
} from '@callsync/testkit';
import { useTestDatabase } from './support/database';

/**
 * Agent versions compared (issue 29): each number checked against a plain computation over the rows
 * (percentiles against a sorted array: the smallest value whose share reaches the fraction), and every
 * query walking an index on a million calls.
 */
const t = useTestDatabase();
const ROWS = 1_000_000;
let weber: string;
let other: string;

/** A small deterministic generator, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

interface Call {
  call_id: string;
  agent_version: number;
  company_id: string;
  started_at: Date;
  call_status: 'ended' | 'error';
  call_successful: boolean | null;
  user_sentiment: string | null;
  in_voicemail: boolean;
  duration_ms: number;
  cost_cents: number | null;
  disconnection_reason: string;
  transferred: boolean;
  e2e: number | null;
  llm: number | null;
  tts: number | null;
  tokens: { average: number; num_requests: number } | null;
}

const AGENT = 'agent_oracle';
const DAY0 = Date.UTC(2026, 10, 20);
const calls: Call[] = [];
const functions: { call_id: string; version: number; name: string; status: string; duration_ms: number | null }[] = [];

function generate(): void {
  const r = rng(29);
  const sentiments = ['Positive', 'Neutral', 'Negative', 'Unknown', null];
  for (const [version, n] of [
    [7, 301],
    [8, 256],
  ] as const)
    for (let i = 0; i < n; i++) {
      const v8 = version === 8;
      const error = r() < 0.04;
      const e2e = r() < 0.1 ? null : Math.round(600 + r() * 900 + (v8 ? 150 : 0) + (r() < 0.05 ? 3000 : 0));
      const call: Call = {
        call_id: `call_o${version}_${i}`,
        agent_version: version,
        company_id: r() < 0.6 ? weber : other,
        started_at: new Date(DAY0 + Math.floor(r() * 10 * 86400_000)),
        call_status: error ? 'error' : 'ended',
        call_successful: r() < 0.15 ? null : r() < (v8 ? 0.55 : 0.75),
        user_sentiment: sentiments[Math.floor(r() * sentiments.length)]!,
        in_voicemail: r() < 0.08,
        duration_ms: Math.round(5_000 + r() * 300_000),
        cost_cents: r() < 0.05 ? null : Math.round(r() * 4000) / 100,
        disconnection_reason: error ? 'error_llm_websocket_runtime' : r() < 0.1 ? 'call_transfer' : 'user_hangup',
        transferred: false,
        e2e,
        llm: e2e === null ? null : Math.round(e2e * 0.5 + r() * 50),
        tts: e2e === null ? null : Math.round(150 + r() * 200),
        tokens: r() < 0.1 ? null : { average: Math.round(r() * 2000), num_requests: 1 + Math.floor(r() * 8) },
      };
      call.transferred = call.disconnection_reason === 'call_transfer';
      calls.push(call);
      for (const name of ['check_availability', 'book_appointment'])
        if (r() < 0.7) {
          const x = r();
          functions.push({
            call_id: call.call_id,
            version,
            name,
            status: x < 0.03 ? 'running' : x < 0.1 ? 'timeout' : x < 0.15 ? 'bad_args' : x < 0.2 ? 'error' : 'ok',
            duration_ms: x < 0.03 ? null : Math.round(50 + r() * 2000),
          });
        }
    }
}

/** The oracle: sorted[ceil(p * n) - 1], nulls left out (what percentile_disc computes). */
function percentile(values: (number | null)[], p: number): number | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.ceil(p * sorted.length) - 1]! : null;
}

function expected(version: number, keep: (c: Call) => boolean = () => true) {
  const cs = calls.filter((c) => c.agent_version === version && keep(c));
  const analyzed = cs.filter((c) => c.call_successful !== null);
  const costed = cs.filter((c) => c.cost_cents !== null && c.duration_ms > 0);
  const tokens = cs.flatMap((c) => (c.tokens ? [c.tokens.average * c.tokens.num_requests] : []));
  const count = (f: (c: Call) => boolean) => cs.filter(f).length;
  return {
    agent_id: AGENT,
    agent_version: version,
    calls: cs.length,
    analyzed: analyzed.length,
    successful: count((c) => c.call_successful === true),
    success_rate: count((c) => c.call_successful === true) / analyzed.length,
    sentiment: {
      positive: count((c) => c.user_sentiment === 'Positive'),
      neutral: count((c) => c.user_sentiment === 'Neutral'),
      negative: count((c) => c.user_sentiment === 'Negative'),
      unknown: count((c) => c.user_sentiment === 'Unknown'),
    },
    voicemail_rate: count((c) => c.in_voicemail) / cs.length,
    transfer_rate: count((c) => c.transferred) / cs.length,
    error_rate: count((c) => c.call_status === 'error') / cs.length,
    median_duration_ms: percentile(
      cs.map((c) => c.duration_ms),
      0.5,
    ),
    cost_cents_per_minute:
      (costed.reduce((s, c) => s + c.cost_cents!, 0) * 60_000) / costed.reduce((s, c) => s + c.duration_ms, 0),
    latency_calls: count((c) => c.e2e !== null),
    e2e_p50_median: percentile(
      cs.map((c) => c.e2e),
      0.5,
    ),
    e2e_p50_p90: percentile(
      cs.map((c) => c.e2e),
      0.9,
    ),
    llm_p50_median: percentile(
      cs.map((c) => c.llm),
      0.5,
    ),
    llm_p50_p90: percentile(
      cs.map((c) => c.llm),
      0.9,
    ),
    tts_p50_median: percentile(
      cs.map((c) => c.tts),
      0.5,
    ),
    tts_p50_p90: percentile(
      cs.map((c) => c.tts),
      0.9,
    ),
    tokens_per_call: tokens.reduce((s, x) => s + x, 0) / tokens.length,
  };
}

beforeAll(async () => {
  weber = (await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin')).id;
  other = (await addCompany(t.db, 'Kanzlei Roth', 'Europe/Berlin')).id;
  generate();
  // A million calls of 40 agents with 10 versions each over the last 30 days, around the oracle's.
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, agent_id, agent_version,
      call_successful, duration_ms, cost_cents, latency)
    select 'call_' || i, 'ended', now() - make_interval(secs => i * 2.6), case when i % 10 = 0 then ${weber}::bigint end,
      'agent_' || lpad((i % 40)::text, 2, '0'), (i / 40) % 10 + 1, i % 3 <> 0, 60000 + i % 1000, 12.5,
      jsonb_build_object('e2e', jsonb_build_object('p50', 700 + i % 500))
    from generate_series(1, ${ROWS}) i`.execute(t.db);
  for (let i = 0; i < calls.length; i += 200)
    await t.db
      .insertInto('retell_call_sessions')
      .values(
        calls.slice(i, i + 200).map((c) => ({
          call_id: c.call_id,
          agent_id: AGENT,
          agent_version: c.agent_version,
          company_id: c.company_id,
          started_at: c.started_at,
          call_status: c.call_status,
          call_successful: c.call_successful,
          user_sentiment: c.user_sentiment,
          in_voicemail: c.in_voicemail,
          duration_ms: c.duration_ms,
          cost_cents: c.cost_cents,
          disconnection_reason: c.disconnection_reason,
          latency: JSON.stringify(
            c.e2e === null
              ? null
              : { e2e: { p50: c.e2e, p90: c.e2e * 2 }, llm: { p50: c.llm }, tts: { p50: c.tts, p90: 900 } },
          ),
          llm_token_usage: JSON.stringify(c.tokens && { values: [], ...c.tokens }),
        })),
      )
      .execute();
  await t.db
    .insertInto('function_calls')
    .values(
      functions.map((f, i) => ({
        call_id: f.call_id,
        name: f.name,
        args: '{}',
        invocation_key: `k${i}`,
        status: f.status as 'ok',
        duration_ms: f.duration_ms,
      })),
    )
    .execute();
  // Function calls of the million (one in five calls), so the join's plan is the real one.
  await sql`insert into function_calls (call_id, name, args, invocation_key, status, duration_ms)
    select 'call_' || i, 'check_availability', '{}'::jsonb, 'm' || i, 'ok', 100 + i % 900
    from generate_series(1, ${ROWS}, 5) i`.execute(t.db);
  await sql`analyze retell_call_sessions`.execute(t.db);
  await sql`analyze function_calls`.execute(t.db);
}, 600_000);

describe('agent version stats are exact', () => {
  it('every number of each version equals the computation over its rows (percentiles: sorted-array oracle)', async () => {
    const stats = await agentVersionStats(t.db, { agentId: AGENT });
    expect(stats.map((s) => s.agent_version)).toEqual([8, 7]);
    for (const s of stats) {
      const e = expected(s.agent_version);
      expect(s).toMatchObject({ ...e, cost_cents_per_minute: expect.any(Number), tokens_per_call: expect.any(Number) });
      expect(s.cost_cents_per_minute).toBeCloseTo(e.cost_cents_per_minute, 6);
      expect(s.tokens_per_call).toBeCloseTo(e.tokens_per_call, 6);
    }
    // The test data is not degenerate: v8 is slower and less successful than v7.
    expect(stats[0]!.e2e_p50_median!).toBeGreaterThan(stats[1]!.e2e_p50_median!);
    expect(stats[0]!.success_rate!).toBeLessThan(stats[1]!.success_rate!);
  });

  it('a company and a time range narrow the rows the same way the oracle does', async () => {
    const from = new Date(DAY0 + 2 * 86400_000);
    const to = new Date(DAY0 + 7 * 86400_000);
    const keep = (c: Call) => c.company_id === weber && c.started_at >= from && c.started_at < to;
    const stats = await agentVersionStats(t.db, { agentId: AGENT, companyId: weber, from, to, versions: [7] });
    expect(stats).toHaveLength(1);
    const e = expected(7, keep);
    expect(e.calls).toBeGreaterThan(50);
    expect(stats[0]).toMatchObject({
      calls: e.calls,
      analyzed: e.analyzed,
      successful: e.successful,
      median_duration_ms: e.median_duration_ms,
      e2e_p50_median: e.e2e_p50_median,
      e2e_p50_p90: e.e2e_p50_p90,
      tts_p50_p90: e.tts_p50_p90,
    });
  });

  it('per function: invocations, failure rate (error, timeout, bad_args of the finished) and p90 duration', async () => {
    const rows = await agentFunctionStats(t.db, { agentId: AGENT });
    expect(rows.map((r) => `${r.agent_version} ${r.name}`)).toEqual([
      '8 book_appointment',
      '8 check_availability',
      '7 book_appointment',
      '7 check_availability',
    ]);
    for (const r of rows) {
      const fs = functions.filter((f) => f.version === r.agent_version && f.name === r.name);
      const finished = fs.filter((f) => f.status !== 'running');
      const failures = finished.filter((f) => f.status !== 'ok').length;
      expect(r).toEqual({
        agent_version: r.agent_version,
        name: r.name,
        invocations: fs.length,
        finished: finished.length,
        failures,
        failure_rate: failures / finished.length,
        p90_duration_ms: percentile(
          fs.map((f) => f.duration_ms),
          0.9,
        ),
      });
    }
  });

  it('the median’s 95% interval: the order statistics at n/2 ∓ 0.98·√n around it', async () => {
    const intervals = await e2eMedianIntervals(t.db, { agentId: AGENT });
    for (const i of intervals) {
      const sorted = calls
        .filter((c) => c.agent_version === i.agent_version && c.e2e !== null)
        .map((c) => c.e2e!)
        .sort((a, b) => a - b);
      const n = sorted.length;
      expect(i.n).toBe(n);
      expect(i.low).toBe(sorted[Math.max(1, Math.floor(n / 2 - 0.98 * Math.sqrt(n))) - 1]);
      expect(i.high).toBe(sorted[Math.min(n, Math.ceil(1 + n / 2 + 0.98 * Math.sqrt(n))) - 1]);
      expect(i.low).toBeLessThanOrEqual(percentile(sorted, 0.5)!);
      expect(i.high).toBeGreaterThanOrEqual(percentile(sorted, 0.5)!);
    }
  });

  it('lists agents with their newest versions, for a company too; per day for the chart', async () => {
    const all = await listAgentVersions(t.db, { perAgent: 2 });
    expect(all).toHaveLength(41);
    expect(all.find((a) => a.agent_id === AGENT)!.versions).toEqual([8, 7]);
    expect(all.find((a) => a.agent_id === 'agent_00')!.versions).toEqual([10, 9]);
    const roth = await listAgentVersions(t.db, { perAgent: 5, companyId: other });
    expect(roth).toEqual([{ agent_id: AGENT, versions: [8, 7] }]);
    const days = await agentVersionsPerDay(t.db, { agentId: AGENT, versions: [7] });
    expect(days.reduce((s, d) => s + d.calls, 0)).toBe(301);
    const first = days[0]!;
    const ofDay = calls.filter(
      (c) =>
        c.agent_version === 7 && c.started_at.getTime() - first.day.getTime() < 86400_000 && c.started_at >= first.day,
    );
    expect(first.calls).toBe(ofDay.length);
    expect(first.e2e_p50_median).toBe(
      percentile(
        ofDay.map((c) => c.e2e),
        0.5,
      ),
    );
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

async function plan(db: Db, q: RawBuilder<unknown>): Promise<PlanNode[]> {
  const compiled = q.compile(db);
  const r = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]),
  );
  return nodes(r.rows[0]!['QUERY PLAN'][0].Plan);
}

/** No sequential scan of retell_call_sessions, and the agent index used. */
function expectAgentIndex(p: PlanNode[]): void {
  expect(p.filter((n) => n['Relation Name'] === 'retell_call_sessions').map((n) => n['Node Type'])).not.toContain(
    'Seq Scan',
  );
  expect(p.map((n) => n['Index Name'])).toContain('retell_call_sessions_agent_version_idx');
}

describe('agent version queries on a million calls', () => {
  const week = () => new Date(Date.now() - 7 * 86400_000);
  it('stats, function health, the median interval and the chart read one agent through the agent index', async () => {
    for (const f of [
      { agentId: 'agent_07' },
      { agentId: 'agent_07', versions: [10, 9] },
      { agentId: 'agent_07', versions: [10], companyId: weber, from: week() },
      { agentId: 'agent_07', from: week(), to: new Date() },
    ]) {
      expectAgentIndex(await plan(t.db, agentVersionStatsQuery(f)));
      expectAgentIndex(await plan(t.db, e2eMedianIntervalsQuery(f)));
      expectAgentIndex(await plan(t.db, agentVersionsPerDayQuery(f)));
      const fp = await plan(t.db, agentFunctionStatsQuery(f));
      expectAgentIndex(fp);
      expect(fp.filter((n) => n['Relation Name'] === 'function_calls').map((n) => n['Node Type'])).not.toContain(
        'Seq Scan',
      );
    }
  });

  it('the list of agents and their newest versions is a skip scan over the agent index', async () => {
    for (const f of [{ perAgent: 2 }, { perAgent: 2, companyId: weber }, { perAgent: 3, from: week() }])
      expectAgentIndex(await plan(t.db, listAgentVersionsQuery(f)));
  });
});
