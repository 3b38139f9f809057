import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';

/*
 * Agent versions compared (issue 29): what each version of a Retell agent did, with an optional
 * company and time range. Every query starts from one agent's rows through
 * retell_call_sessions_agent_version_idx (agent_id, agent_version, started_at; migration 0020);
 * EXPLAIN on a million calls is in test/agent-stats.queries.test.ts.
 *
 * Percentiles are exact: percentile_disc, the smallest value whose cumulative share reaches the
 * fraction (sorted[ceil(p * n) - 1]; the median of an even count is the lower middle value).
 */

export interface AgentStatsFilter {
  companyId?: string;
  /** started_at >= from */
  from?: Date;
  /** started_at < to */
  to?: Date;
}

export interface AgentVersionFilter extends AgentStatsFilter {
  agentId: string;
  /** Only these versions (default: every version). */
  versions?: readonly number[];
}

/** One version's numbers. Rates are 0..1 of the calls they count (null without any). */
export interface AgentVersionStats {
  agent_id: string;
  agent_version: number;
  calls: number;
  /** Calls with an analysis that says successful or not: the success rate's sample size. */
  analyzed: number;
  successful: number;
  success_rate: number | null;
  sentiment: { positive: number; neutral: number; negative: number; unknown: number };
  voicemail_rate: number | null;
  transfer_rate: number | null;
  error_rate: number | null;
  median_duration_ms: number | null;
  /** Retell's combined cost (cents) per minute of the calls that have both a cost and a duration. */
  cost_cents_per_minute: number | null;
  /** Calls with a latency object: the latency percentiles' sample size. */
  latency_calls: number;
  /** Median and p90, over the calls, of each call's p50 (ms). */
  e2e_p50_median: number | null;
  e2e_p50_p90: number | null;
  llm_p50_median: number | null;
  llm_p50_p90: number | null;
  tts_p50_median: number | null;
  tts_p50_p90: number | null;
  /** Mean LLM tokens per call (Retell's average × requests) over the calls that report usage. */
  tokens_per_call: number | null;
  first_call_at: Date | null;
  last_call_at: Date | null;
}

export interface AgentFunctionStats {
  agent_version: number;
  name: string;
  invocations: number;
  /** Finished invocations (not running): the failure rate's sample size. */
  finished: number;
  /** error, timeout and bad_args (the agent sent arguments the function refused). */
  failures: number;
  failure_rate: number | null;
  p90_duration_ms: number | null;
}

/** A call's p50 of one latency component, when Retell sent it as a number. */
const p50 = (component: string) =>
  sql<number>`case when jsonb_typeof(latency->${component}->'p50') = 'number' then (latency->${component}->>'p50')::float8 end`;

const ERROR = sql`(call_status = 'error' or disconnection_reason like 'error%')`;
const TRANSFERRED = sql`(disconnection_reason in ('call_transfer', 'transfer_bridged') or jsonb_array_length(transfers) > 0)`;

/** The WHERE of one agent's sessions (s), its versions, company and range. */
function where(f: AgentVersionFilter): RawBuilder<unknown> {
  const parts = [sql`s.agent_id = ${f.agentId}`, sql`s.agent_version is not null`];
  if (f.versions) parts.push(sql`s.agent_version = any(${[...f.versions]}::int[])`);
  parts.push(...rangeAndCompany(f));
  return sql.join(parts, sql` and `);
}

function rangeAndCompany(f: AgentStatsFilter): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [];
  if (f.companyId) parts.push(sql`s.company_id = ${f.companyId}::bigint`);
  if (f.from) parts.push(sql`s.started_at >= ${f.from}`);
  if (f.to) parts.push(sql`s.started_at < ${f.to}`);
  return parts;
}

const rate = (n: number, of: number) => (of > 0 ? n / of : null);

/** Each version's numbers, newest version first. */
export async function agentVersionStats(db: Db, f: AgentVersionFilter): Promise<AgentVersionStats[]> {
  type Row = Omit<AgentVersionStats, 'success_rate' | 'sentiment' | `${string}_rate`> &
    Record<'positive' | 'neutral' | 'negative' | 'unknown' | 'voicemail' | 'transferred' | 'errors', number>;
  const rows = (await agentVersionStatsQuery(f).execute(db)).rows as Row[];
  return rows.map(({ positive, neutral, negative, unknown, voicemail, transferred, errors, ...r }) => ({
    ...r,
    success_rate: rate(r.successful, r.analyzed),
    sentiment: { positive, neutral, negative, unknown },
    voicemail_rate: rate(voicemail, r.calls),
    transfer_rate: rate(transferred, r.calls),
    error_rate: rate(errors, r.calls),
  }));
}

/** agentVersionStats's query, for EXPLAIN. */
export function agentVersionStatsQuery(f: AgentVersionFilter) {
  return sql<Record<string, unknown>>`
    select agent_id, agent_version,
      count(*)::int as calls,
      count(call_successful)::int as analyzed,
      count(*) filter (where call_successful)::int as successful,
      count(*) filter (where user_sentiment = 'Positive')::int as positive,
      count(*) filter (where user_sentiment = 'Neutral')::int as neutral,
      count(*) filter (where user_sentiment = 'Negative')::int as negative,
      count(*) filter (where user_sentiment is not null and user_sentiment not in ('Positive', 'Neutral', 'Negative'))::int as unknown,
      count(*) filter (where in_voicemail)::int as voicemail,
      count(*) filter (where ${TRANSFERRED})::int as transferred,
      count(*) filter (where ${ERROR})::int as errors,
      (percentile_disc(0.5) within group (order by duration_ms))::float8 as median_duration_ms,
      (sum(cost_cents) filter (where duration_ms > 0) * 60000.0
        / nullif(sum(duration_ms) filter (where duration_ms > 0 and cost_cents is not null), 0))::float8 as cost_cents_per_minute,
      count(e2e)::int as latency_calls,
      percentile_disc(0.5) within group (order by e2e) as e2e_p50_median,
      percentile_disc(0.9) within group (order by e2e) as e2e_p50_p90,
      percentile_disc(0.5) within group (order by llm) as llm_p50_median,
      percentile_disc(0.9) within group (order by llm) as llm_p50_p90,
      percentile_disc(0.5) within group (order by tts) as tts_p50_median,
      percentile_disc(0.9) within group (order by tts) as tts_p50_p90,
      avg(tokens)::float8 as tokens_per_call,
      min(started_at) as first_call_at, max(started_at) as last_call_at
    from (
      select s.*, ${p50('e2e')} as e2e, ${p50('llm')} as llm, ${p50('tts')} as tts,
        case when jsonb_typeof(s.llm_token_usage->'average') = 'number' and jsonb_typeof(s.llm_token_usage->'num_requests') = 'number'
          then (s.llm_token_usage->>'average')::float8 * (s.llm_token_usage->>'num_requests')::float8 end as tokens
      from retell_call_sessions s where ${where(f)}
    ) s
    group by agent_id, agent_version
    order by agent_version desc`;
}

/** Per version and function: invocations, failure rate, p90 duration. */
export async function agentFunctionStats(db: Db, f: AgentVersionFilter): Promise<AgentFunctionStats[]> {
  const rows = (await agentFunctionStatsQuery(f).execute(db)).rows;
  return rows.map((r) => ({ ...r, failure_rate: rate(r.failures, r.finished) }));
}

export function agentFunctionStatsQuery(f: AgentVersionFilter) {
  return sql<Omit<AgentFunctionStats, 'failure_rate'>>`
    select s.agent_version, fc.name,
      count(*)::int as invocations,
      count(*) filter (where fc.status <> 'running')::int as finished,
      count(*) filter (where fc.status in ('error', 'timeout', 'bad_args'))::int as failures,
      (percentile_disc(0.9) within group (order by fc.duration_ms))::float8 as p90_duration_ms
    from retell_call_sessions s
    -- A probe of function_calls_call_id_idx per call: OFFSET 0 keeps the planner from turning this into
    -- a hash join that reads every function call ever made (the table outgrows sessions several times).
    cross join lateral (select name, status, duration_ms from function_calls f where f.call_id = s.call_id offset 0) fc
    where ${where(f)}
    group by 1, 2 order by 1 desc, 2`;
}

export interface MedianInterval {
  agent_version: number;
  n: number;
  /** Order statistics bounding the median of the calls' e2e p50 with 95% confidence (ms). */
  low: number;
  high: number;
}

/**
 * A distribution-free 95% confidence interval of each version's median e2e p50: the values at
 * ranks n/2 - 0.98·√n and 1 + n/2 + 0.98·√n of the sorted calls (the binomial / order-statistic
 * interval; no assumption about latency's shape, which is skewed).
 */
export async function e2eMedianIntervals(db: Db, f: AgentVersionFilter): Promise<MedianInterval[]> {
  return (await e2eMedianIntervalsQuery(f).execute(db)).rows;
}

export function e2eMedianIntervalsQuery(f: AgentVersionFilter) {
  return sql<MedianInterval>`
    select agent_version, n::int as n,
      min(e2e) filter (where rn = greatest(1, floor(n / 2.0 - 0.98 * sqrt(n)))) as low,
      min(e2e) filter (where rn = least(n, ceil(1 + n / 2.0 + 0.98 * sqrt(n)))) as high
    from (
      select s.agent_version, ${p50('e2e')} as e2e,
        row_number() over (partition by s.agent_version order by ${p50('e2e')}) as rn,
        count(*) over (partition by s.agent_version) as n
      from retell_call_sessions s where ${where(f)} and ${p50('e2e')} is not null
    ) x
    group by agent_version, n order by agent_version desc`;
}

export interface AgentVersions {
  agent_id: string;
  /** Newest first. */
  versions: number[];
}

/**
 * Agents that have calls (in the company and range), each with its newest `perAgent` versions: a
 * skip scan over the agent index (one probe per agent, then one per version), never a full read.
 */
export async function listAgentVersions(
  db: Db,
  f: AgentStatsFilter & { agentId?: string; perAgent: number },
): Promise<AgentVersions[]> {
  return (await listAgentVersionsQuery(f).execute(db)).rows;
}

export function listAgentVersionsQuery(f: AgentStatsFilter & { agentId?: string; perAgent: number }) {
  const filters = rangeAndCompany(f);
  const and = filters.length ? sql` and ${sql.join(filters, sql` and `)}` : sql``;
  const agents = f.agentId
    ? sql`select ${f.agentId}::text as agent_id`
    : sql`select agent_id from (with recursive a(agent_id) as (
        (select s.agent_id from retell_call_sessions s where s.agent_id is not null ${and} order by s.agent_id limit 1)
        union all
        select (select s.agent_id from retell_call_sessions s where s.agent_id > a.agent_id ${and} order by s.agent_id limit 1)
        from a where a.agent_id is not null
      ) select agent_id from a where agent_id is not null) agents`;
  return sql<AgentVersions>`
    select a.agent_id, array(
      with recursive v(version) as (
        (select s.agent_version from retell_call_sessions s
          where s.agent_id = a.agent_id and s.agent_version is not null ${and} order by s.agent_version desc limit 1)
        union all
        select (select s.agent_version from retell_call_sessions s
          where s.agent_id = a.agent_id and s.agent_version < v.version ${and} order by s.agent_version desc limit 1)
        from v where v.version is not null
      ) select version from v where version is not null limit ${f.perAgent}
    ) as versions
    from (${agents}) a
    order by a.agent_id`;
}

export interface VersionDay {
  agent_version: number;
  day: Date;
  calls: number;
  analyzed: number;
  successful: number;
  e2e_p50_median: number | null;
}

/** Per version and day (UTC): the success rate's counts and the median e2e p50, for the chart. */
export async function agentVersionsPerDay(db: Db, f: AgentVersionFilter): Promise<VersionDay[]> {
  return (await agentVersionsPerDayQuery(f).execute(db)).rows;
}

export function agentVersionsPerDayQuery(f: AgentVersionFilter) {
  return sql<VersionDay>`
    select s.agent_version, date_trunc('day', s.started_at, 'UTC') as day,
      count(*)::int as calls, count(s.call_successful)::int as analyzed,
      count(*) filter (where s.call_successful)::int as successful,
      percentile_disc(0.5) within group (order by ${p50('e2e')}) as e2e_p50_median
    from retell_call_sessions s where ${where(f)} and s.started_at is not null
    group by 1, 2 order by 1, 2`;
}

export interface AgentVersionHealth {
  agent_id: string;
  /** newest: the agent's highest version with calls in the window; previous: the one before. */
  slot: 'newest' | 'previous';
  agent_version: number;
  calls: number;
  analyzed: number;
  success_rate: number | null;
  /** p90 over the calls of each call's e2e p50 (ms). */
  e2e_p50_p90_ms: number | null;
  /** Finished function invocations, and the share that failed (error, timeout, bad_args). */
  function_calls: number;
  function_failure_rate: number | null;
}

/**
 * The newest and previous version of each agent registered in retell_agents (so metric labels stay
 * bounded by what the operator synced or mapped, as the company gauges are), over calls since `since`.
 */
export async function agentVersionHealth(db: Db, since: Date): Promise<AgentVersionHealth[]> {
  const registered = new Set(
    (await db.selectFrom('retell_agents').select('agent_id').execute()).map((a) => a.agent_id),
  );
  const agents = (await listAgentVersions(db, { from: since, perAgent: 2 })).filter((a) => registered.has(a.agent_id));
  const out: AgentVersionHealth[] = [];
  for (const { agent_id, versions } of agents) {
    const f = { agentId: agent_id, versions, from: since };
    const [stats, functions] = await Promise.all([agentVersionStats(db, f), agentFunctionStats(db, f)]);
    for (const s of stats) {
      const fs = functions.filter((fn) => fn.agent_version === s.agent_version);
      const finished = fs.reduce((n, fn) => n + fn.finished, 0);
      out.push({
        agent_id,
        slot: s.agent_version === versions[0] ? 'newest' : 'previous',
        agent_version: s.agent_version,
        calls: s.calls,
        analyzed: s.analyzed,
        success_rate: s.success_rate,
        e2e_p50_p90_ms: s.e2e_p50_p90,
        function_calls: finished,
        function_failure_rate: rate(
          fs.reduce((n, fn) => n + fn.failures, 0),
          finished,
        ),
      });
    }
  }
  return out;
}
