import { sql } from 'kysely';
import type { Db } from './database';
import type { CallSession } from './call-session.table';
import type { WebhookEvent } from './webhook-event.table';

/*
 * What the call context reads, in two round trips: the session and the call's events not applied
 * yet (in parallel), then company, agent and the caller's history in one statement.
 */

export type PendingCallEvent = Pick<WebhookEvent, 'id' | 'event_type' | 'payload' | 'created_at'>;

/**
 * The session (if a worker made one) and the call's stored events no worker has applied yet, in one
 * statement (one connection, one round trip: this is on the path of a live call).
 */
export async function findCallForContext(
  db: Db,
  callId: string,
): Promise<{ session: CallSession | undefined; pending: PendingCallEvent[] }> {
  const { rows } = await sql<{ session: CallSession | null; pending: PendingCallEvent[] | null }>`
    select
      (select row_to_json(s) from retell_call_sessions s where s.call_id = ${callId}) as session,
      (select json_agg(json_build_object('id', e.id::text, 'event_type', e.event_type, 'payload', e.payload, 'created_at', e.created_at) order by e.id)
         from webhook_events e where e.call_id = ${callId} and e.status in ('pending', 'failed')) as pending`.execute(
    db,
  );
  const r = rows[0]!;
  // JSON gives timestamps as text: back to Dates, as a plain select returns them.
  const session = r.session ? reviveDates(r.session) : undefined;
  const pending = (r.pending ?? []).map((e) => ({ ...e, created_at: new Date(e.created_at as unknown as string) }));
  return { session, pending };
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

export interface ContextFacts {
  company: { id: string; name: string; time_zone: string } | null;
  agent: { agent_id: string; name: string | null; agent_version: number | null; agent_type: string | null } | null;
  history: { call_count: number; last_call_at: Date | null; last_summary: string | null };
}

/**
 * The company, the agent, and the customer's earlier calls with that company (null company: the
 * calls of no company): how many, and the last one's start and summary. `customerNumber` null (web
 * call, withheld caller ID) has no history. Sessions whose numbers retention removed still count,
 * through their caller_hash.
 */
export async function findContextFacts(
  db: Db,
  q: { companyId: string | null; agentId: string | null; customerNumber: string | null; excludeCallId: string },
): Promise<ContextFacts> {
  const company = q.companyId === null ? sql`s.company_id is null` : sql`s.company_id = ${q.companyId}::bigint`;
  const { rows } = await sql<{
    company: ContextFacts['company'];
    agent: ContextFacts['agent'];
    call_count: string;
    last_call_at: Date | null;
    last_summary: string | null;
  }>`
    with earlier as (
      select s.started_at, s.call_summary from retell_call_sessions s
      where ${q.customerNumber === null ? sql`false` : sql`${company}`}
        and s.call_id <> ${q.excludeCallId}
        and ((case when s.direction = 'outbound' then s.to_number else s.from_number end) = ${q.customerNumber}
             or s.caller_hash = (select callsync_caller_hash(${q.customerNumber}))) -- once, not per row
    )
    select
      (select json_build_object('id', c.id::text, 'name', c.name, 'time_zone', c.time_zone) from companies c where c.id = ${q.companyId}::bigint) as company,
      (select json_build_object('agent_id', a.agent_id, 'name', a.name, 'agent_version', a.agent_version, 'agent_type', a.agent_type)
         from retell_agents a where a.agent_id = ${q.agentId}) as agent,
      (select count(*) from earlier) as call_count,
      (select max(started_at) from earlier) as last_call_at,
      (select call_summary from earlier order by started_at desc nulls last limit 1) as last_summary`.execute(db);
  const r = rows[0]!;
  return {
    company: r.company,
    agent: r.agent,
    history: { call_count: Number(r.call_count), last_call_at: r.last_call_at, last_summary: r.last_summary },
  };
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
  history: { call_count: number; last_call_at: Date | null; last_summary: string | null };
  /** The answer recorded for the same request (Retell's retry of one call_inbound), if any. */
  prior: { answer: unknown } | null;
}

export interface InboundQuery {
  /** The number called. */
  toNumber: string;
  /** The caller; null when withheld. */
  fromNumber: string | null;
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
  const company = q.companyId === null ? null : q.companyId;
  const { rows } = await sql<{
    number: InboundFacts['number'];
    company: InboundFacts['company'];
    schedules: InboundFacts['schedules'] | null;
    blocked: boolean;
    call_count: string;
    last_call_at: Date | null;
    last_summary: string | null;
    prior: unknown;
    has_prior: boolean;
  }>`
    with n as (select * from retell_phone_numbers where phone_number = ${q.toNumber}),
    -- The caller's calls with the company; no company: the calls of no company, as the call context
    -- counts them. Two branches, so each can use the index.
    mine as (
      select s.started_at, s.call_summary, s.direction, s.from_number, s.to_number, s.caller_hash from retell_call_sessions s
      where s.company_id = ${company}::bigint
      union all
      select s.started_at, s.call_summary, s.direction, s.from_number, s.to_number, s.caller_hash from retell_call_sessions s
      where ${company}::bigint is null and s.company_id is null
    ),
    earlier as (
      select started_at, call_summary from mine
      where ${q.fromNumber}::text is not null
        and ((case when direction = 'outbound' then to_number else from_number end) = ${q.fromNumber}
             or caller_hash = (select callsync_caller_hash(${q.fromNumber})))
    ),
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
      (select count(*) from earlier) as call_count,
      (select max(started_at) from earlier) as last_call_at,
      (select call_summary from earlier order by started_at desc nulls last limit 1) as last_summary,
      (select answer from prior) as prior,
      exists (select 1 from prior) as has_prior`.execute(db);
  const r = rows[0]!;
  return {
    number: r.number,
    company: r.company,
    schedules: r.schedules ?? [],
    blocked: r.blocked,
    history: {
      call_count: Number(r.call_count),
      last_call_at: r.last_call_at ? new Date(r.last_call_at) : null,
      last_summary: r.last_summary,
    },
    prior: r.has_prior ? { answer: r.prior } : null,
  };
}

/**
 * An event answered in the request itself (the inbound webhook): stored as processed, for the record,
 * with the answer given (null: none worth repeating, e.g. a fallback). A retry of the same request
 * (same key) is counted; its first recorded answer stays.
 */
export async function recordAnsweredEvent(
  db: Db,
  e: {
    eventType: string;
    dedupeKey: string;
    /** The call the request is about, when Retell names it (call_inbound.call_id). */
    callId: string | null;
    chatId: string | null;
    payloadJson: string;
    rawBody: Buffer;
    signature: string | null;
    answer: unknown;
  },
): Promise<void> {
  const answer = e.answer === null || e.answer === undefined ? null : JSON.stringify(e.answer);
  await sql`
    insert into webhook_events (event_type, call_id, chat_id, dedupe_key, payload, raw_body, signature, status, attempts, processed_at, answer)
    values (${e.eventType}, ${e.callId}, ${e.chatId}, ${e.dedupeKey}, ${e.payloadJson}::jsonb, ${e.rawBody}, ${e.signature}, 'processed', 1, now(), ${answer}::jsonb)
    on conflict (provider, dedupe_key) do update set delivery_count = webhook_events.delivery_count + 1, last_delivered_at = now(),
      answer = coalesce(webhook_events.answer, excluded.answer)`.execute(db);
}
