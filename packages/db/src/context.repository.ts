import { sql } from 'kysely';
import type { Db } from './database';
import type { CallSession } from './call-session.table';
import type { CallerMemory } from './company.table';
import type { WebhookEvent } from './webhook-event.table';

/*
 * What the call context reads, in two round trips: the session and the call's events not applied
 * yet, then company, agent and the caller's history in one statement. A function's claim of its
 * invocation reads both in its own statement (claimInvocation, with these parts): one round trip.
 */

export type PendingCallEvent = Pick<WebhookEvent, 'id' | 'event_type' | 'payload' | 'created_at'>;

/** The session (if a worker made one) and the call's stored events no worker has applied yet. */
export interface CallForContext {
  session: CallSession | undefined;
  pending: PendingCallEvent[];
}

/**
 * findCallForContext's columns, for a statement that reads them beside other work (a function's
 * claim of its invocation: function-call.repository.ts). Read back with callForContextOf.
 */
export function callForContextColumns(callId: string) {
  return sql`(select row_to_json(s) from retell_call_sessions s where s.call_id = ${callId}) as session,
      (select json_agg(json_build_object('id', e.id::text, 'event_type', e.event_type, 'payload', e.payload, 'created_at', e.created_at) order by e.id)
         from webhook_events e where e.call_id = ${callId} and e.status in ('pending', 'failed')) as pending`;
}

export interface CallForContextRow {
  session: CallSession | null;
  pending: PendingCallEvent[] | null;
}

/** The session and pending events of a row with callForContextColumns. */
export function callForContextOf(r: CallForContextRow): CallForContext {
  // JSON gives timestamps as text: back to Dates, as a plain select returns them.
  const session = r.session ? reviveDates(r.session) : undefined;
  const pending = (r.pending ?? []).map((e) => ({ ...e, created_at: new Date(e.created_at as unknown as string) }));
  return { session, pending };
}

/**
 * The session (if a worker made one) and the call's stored events no worker has applied yet, in one
 * statement (one connection, one round trip: this is on the path of a live call).
 */
export async function findCallForContext(db: Db, callId: string): Promise<CallForContext> {
  const { rows } = await sql<CallForContextRow>`select ${callForContextColumns(callId)}`.execute(db);
  return callForContextOf(rows[0]!);
}

const SESSION_DATES = [
  'started_at',
  'ended_at',
  'analyzed_at',
  'last_event_at',
  'reconcile_checked_at',
  'reconcile_stopped_at',
  'pii_pruned_at',
  'created_at',
  'updated_at',
] as const;

function reviveDates(row: CallSession): CallSession {
  const out = { ...row } as Record<string, unknown>;
  for (const k of SESSION_DATES) if (typeof out[k] === 'string') out[k] = new Date(out[k] as string);
  // int8 and numeric come back as strings from a plain select; keep that shape.
  for (const k of ['id', 'company_id', 'duration_ms', 'cost_cents'])
    if (typeof out[k] === 'number') out[k] = String(out[k]);
  return out as unknown as CallSession;
}

/**
 * The caller's earlier calls that the call's company may recall, as three CTEs: `memory` (the
 * company's caller_memory; a call without a company recalls nothing once any company exists, while
 * a deployment with no companies at all keeps memory across its calls), `mine` (that company's calls,
 * or with no company the calls of no company) and `earlier` (the caller's among them, by number or,
 * once retention removed the number, by caller_hash: `callerHashes` are the number's hashes under
 * every key, made by the caller, since the key never reaches Postgres). Nothing of another company
 * is ever read.
 */
function callerHistory(q: {
  companyId: string | null;
  customerNumber: string | null;
  callerHashes: readonly string[];
  excludeCallId: string | null;
}) {
  const company = q.companyId;
  return sql`
    memory as (
      select case
        when ${company}::bigint is not null
          then coalesce((select caller_memory from companies where id = ${company}::bigint), 'summary')
        when exists (select 1 from companies) then 'off'
        else 'summary' end as mode
    ),
    -- Two branches, so each can use the index.
    mine as (
      select s.call_id, s.started_at, s.call_summary, s.direction, s.from_number, s.to_number, s.caller_hash
      from retell_call_sessions s where s.company_id = ${company}::bigint
      union all
      select s.call_id, s.started_at, s.call_summary, s.direction, s.from_number, s.to_number, s.caller_hash
      from retell_call_sessions s where ${company}::bigint is null and s.company_id is null
    ),
    earlier as (
      select started_at, call_summary from mine
      where ${q.customerNumber}::text is not null and (select mode from memory) <> 'off'
        and call_id is distinct from ${q.excludeCallId}
        and ((case when direction = 'outbound' then to_number else from_number end) = ${q.customerNumber}
             or caller_hash = any(${[...q.callerHashes]}::text[]))
    )`;
}

/** The history columns of a statement built on callerHistory; the summary only where memory is `summary`. */
const HISTORY_COLUMNS = sql`
  (select count(*) from earlier) as call_count,
  (select max(started_at) from earlier) as last_call_at,
  (select call_summary from earlier where (select mode from memory) = 'summary'
     order by started_at desc nulls last limit 1) as last_summary,
  (select mode from memory) as memory`;

/** A caller's earlier calls with the company, as far as its caller_memory allows. */
export interface CallerHistory {
  call_count: number;
  last_call_at: Date | null;
  last_summary: string | null;
  /** What the company lets an agent hear (`off` also for a call without a company, once companies exist). */
  memory: CallerMemory;
}

export interface ContextFacts {
  company: { id: string; name: string; time_zone: string } | null;
  agent: { agent_id: string; name: string | null; agent_version: number | null; agent_type: string | null } | null;
  history: CallerHistory;
}

interface HistoryRow {
  call_count: string;
  last_call_at: Date | string | null;
  last_summary: string | null;
  memory: CallerMemory;
}

const historyOf = (r: HistoryRow): CallerHistory => ({
  call_count: Number(r.call_count),
  last_call_at: r.last_call_at ? new Date(r.last_call_at) : null,
  last_summary: r.last_summary,
  memory: r.memory,
});

/** What findContextFacts is asked. */
export interface ContextFactsQuery {
  companyId: string | null;
  agentId: string | null;
  customerNumber: string | null;
  /** The customer's number hashed under every key (SecretKeyring.callerHashes); [] without a number. */
  callerHashes: readonly string[];
  excludeCallId: string;
}

export type ContextFactsRow = { company: ContextFacts['company']; agent: ContextFacts['agent'] } & HistoryRow;

/**
 * findContextFacts as parts of a larger statement (a function's claim): `ctes` for its WITH list,
 * `columns` for its select list. Read back with contextFactsOf.
 */
export function contextFactsParts(q: ContextFactsQuery) {
  return {
    ctes: callerHistory(q),
    columns: sql`(select json_build_object('id', c.id::text, 'name', c.name, 'time_zone', c.time_zone) from companies c where c.id = ${q.companyId}::bigint) as company,
      (select json_build_object('agent_id', a.agent_id, 'name', a.name, 'agent_version', a.agent_version, 'agent_type', a.agent_type)
         from retell_agents a where a.agent_id = ${q.agentId}) as agent,
      ${HISTORY_COLUMNS}`,
  };
}

export const contextFactsOf = (r: ContextFactsRow): ContextFacts => ({
  company: r.company,
  agent: r.agent,
  history: historyOf(r),
});

/**
 * The company, the agent, and the customer's earlier calls with that company, as far as its
 * caller_memory allows (callerHistory). `customerNumber` null (web call, withheld caller ID) has no
 * history. Sessions whose numbers retention removed still count, through their caller_hash.
 */
export async function findContextFacts(db: Db, q: ContextFactsQuery): Promise<ContextFacts> {
  const { ctes, columns } = contextFactsParts(q);
  const { rows } = await sql<ContextFactsRow>`with ${ctes} select ${columns}`.execute(db);
  return contextFactsOf(rows[0]!);
}

export interface InboundFacts {
  number: { phone_number: string; company_id: string | null; dynamic_variables: Record<string, string> } | null;
  company: { id: string; name: string; time_zone: string } | null;
  schedules: {
    weekdays: number[];
    starts_at: string;
    ends_at: string;
    agent_id: string;
    agent_version: number | null;
  }[];
  blocked: boolean;
  history: CallerHistory;
  /** The answer recorded for the same request (Retell's retry of one call_inbound), if any. */
  prior: { answer: unknown } | null;
}

export interface InboundQuery {
  /** The number called. */
  toNumber: string;
  /** The caller; null when withheld. */
  fromNumber: string | null;
  /** The caller's number hashed under every key (SecretKeyring.callerHashes); [] when withheld. */
  callerHashes: readonly string[];
  /** The call's company, resolved by the caller (the agent's, else the number's); null: none. */
  companyId: string | null;
  /** The dedupe key of this request's record: a recorded answer under it is returned as `prior`. */
  answerKey: string | null;
}

/**
 * Everything an inbound answer needs, in one statement: the number called (its static variables and
 * time windows), the company (whether it blocks the caller, the caller's history with it), and the
 * answer given to this very request before, if Retell is retrying it.
 */
export async function findInboundFacts(db: Db, q: InboundQuery): Promise<InboundFacts> {
  const company = q.companyId;
  const { rows } = await sql<
    {
      number: InboundFacts['number'];
      company: InboundFacts['company'];
      schedules: InboundFacts['schedules'] | null;
      blocked: boolean;
      prior: unknown;
      has_prior: boolean;
    } & HistoryRow
  >`
    with n as (select * from retell_phone_numbers where phone_number = ${q.toNumber}),
    ${callerHistory({ companyId: company, customerNumber: q.fromNumber, callerHashes: q.callerHashes, excludeCallId: null })},
    prior as (
      select answer from webhook_events
      where provider = 'retell' and dedupe_key = ${q.answerKey} and answer is not null
    )
    select
      (select json_build_object('phone_number', n.phone_number, 'company_id', n.company_id::text, 'dynamic_variables', n.dynamic_variables) from n) as number,
      (select json_build_object('id', c.id::text, 'name', c.name, 'time_zone', c.time_zone) from companies c where c.id = ${company}::bigint) as company,
      (select json_agg(json_build_object('weekdays', i.weekdays, 'starts_at', i.starts_at, 'ends_at', i.ends_at, 'agent_id', i.agent_id, 'agent_version', i.agent_version) order by i.id)
         from inbound_schedules i where i.phone_number = ${q.toNumber}) as schedules,
      exists (select 1 from company_blocked_numbers b where b.company_id = ${company}::bigint and b.phone_number = ${q.fromNumber}) as blocked,
      ${HISTORY_COLUMNS},
      (select answer from prior) as prior,
      exists (select 1 from prior) as has_prior`.execute(db);
  const r = rows[0]!;
  return {
    number: r.number,
    company: r.company,
    schedules: r.schedules ?? [],
    blocked: r.blocked,
    history: historyOf(r),
    prior: r.has_prior ? { answer: r.prior } : null,
  };
}

/** One answered event for recordAnsweredEvents; `deliveries` of the same request arrived in the batch. */
export interface AnsweredEvent {
  eventType: string;
  dedupeKey: string;
  callId: string | null;
  chatId: string | null;
  payloadJson: string;
  rawBody: Buffer;
  signature: string | null;
  /** The answer given (null: none worth repeating, e.g. a fallback). */
  answer: unknown;
  deliveries: number;
  /**
   * When the request arrived: the row's created_at. Records are written after their answers, in
   * groups; a call's timeline orders by arrival, so call_inbound stays before the call_started that
   * reached the ingress while the record was still gathering. Default: when it is written.
   */
  receivedAt?: Date;
}

/**
 * recordAnsweredEvent for many requests in one statement (the live routes' group commit): each key
 * once (callers merge repeats into `deliveries`), in key order so that two processes' statements
 * cannot deadlock. A key already stored counts the deliveries and keeps its first answer.
 */
export async function recordAnsweredEvents(db: Db, events: readonly AnsweredEvent[]): Promise<void> {
  if (!events.length) return;
  const rows = [...events].sort((a, b) => (a.dedupeKey < b.dedupeKey ? -1 : a.dedupeKey > b.dedupeKey ? 1 : 0));
  const values = rows.map((e) => {
    const answer = e.answer === null || e.answer === undefined ? null : JSON.stringify(e.answer);
    const arrived = e.receivedAt ? sql`${e.receivedAt}::timestamptz` : sql`now()`;
    return sql`(${e.eventType}, ${e.callId}, ${e.chatId}, ${e.dedupeKey}, ${e.payloadJson}::jsonb, ${e.rawBody}, ${e.signature}, 'processed', 1, now(), ${answer}::jsonb, ${e.deliveries}::int, ${arrived})`;
  });
  await sql`
    insert into webhook_events (event_type, call_id, chat_id, dedupe_key, payload, raw_body, signature, status, attempts, processed_at, answer, delivery_count, created_at)
    values ${sql.join(values)}
    on conflict (provider, dedupe_key) do update set delivery_count = webhook_events.delivery_count + excluded.delivery_count,
      last_delivered_at = now(), answer = coalesce(webhook_events.answer, excluded.answer)`.execute(db);
}

/**
 * An event answered in the request itself (the inbound webhook): stored as processed, for the record,
 * with the answer given (null: none worth repeating, e.g. a fallback). A retry of the same request
 * (same key) is counted; its first recorded answer stays.
 */
export async function recordAnsweredEvent(db: Db, e: Omit<AnsweredEvent, 'deliveries'>): Promise<void> {
  await recordAnsweredEvents(db, [{ ...e, deliveries: 1 }]);
}

/**
 * What an inbound answer needs of Postgres once routing is held in memory (TenantDirectory): the
 * caller's history with the company and the answer given to this very request before, if any. One
 * statement; when it is late, the answer goes without it.
 */
export async function findInboundCallerFacts(
  db: Db,
  q: Pick<InboundQuery, 'fromNumber' | 'callerHashes' | 'companyId' | 'answerKey'>,
): Promise<Pick<InboundFacts, 'history' | 'prior'>> {
  const { rows } = await sql<{ prior: unknown; has_prior: boolean } & HistoryRow>`
    with ${callerHistory({ companyId: q.companyId, customerNumber: q.fromNumber, callerHashes: q.callerHashes, excludeCallId: null })},
    prior as (
      select answer from webhook_events
      where provider = 'retell' and dedupe_key = ${q.answerKey} and answer is not null
    )
    select ${HISTORY_COLUMNS}, (select answer from prior) as prior, exists (select 1 from prior) as has_prior`.execute(
    db,
  );
  const r = rows[0]!;
  return { history: historyOf(r), prior: r.has_prior ? { answer: r.prior } : null };
}
