import { sql, type SqlBool } from 'kysely';
import type { Db } from './database';
import type { CallSession } from './call-session.table';
import type { WebhookEvent, WebhookEventStatus } from './webhook-event.table';

/*
 * What the operator's console reads. Lists are newest first and paged by keyset (the last row's
 * time and id), never OFFSET, so page 500 costs what page 1 does; each walk has an index
 * (migration 0012). EXPLAIN on a million rows is in test/console.queries.test.ts.
 */

/** Where a page ended: the next page starts after this row. */
export interface Keyset {
  at: Date;
  id: string;
}

export interface CallSearch {
  /** A call id, or a chat id (exact). */
  id?: string;
  companyId?: string;
  status?: string;
  /** Only calls still in_progress that reconciliation stopped polling (callsync_sessions_reconcile_given_up). */
  givenUp?: boolean;
  agentId?: string;
  /** With agentId: one version's calls (the agents page links here). */
  agentVersion?: number;
  from?: Date;
  to?: Date;
  /** The customer's number ends with these digits. */
  callerDigits?: string;
  after?: Keyset;
  limit: number;
}

export type CallRow = { company_name: string | null } & Pick<
  CallSession,
  | 'id'
  | 'call_id'
  | 'company_id'
  | 'agent_id'
  | 'call_status'
  | 'direction'
  | 'from_number'
  | 'to_number'
  | 'started_at'
  | 'ended_at'
  | 'disconnection_reason'
  | 'call_successful'
>;

const customerNumber = sql<string>`case when direction = 'outbound' then to_number else from_number end`;

/** Calls matching the search, newest first, one page (`limit`) after `after`. */
export async function searchCalls(db: Db, s: CallSearch): Promise<CallRow[]> {
  return callSearchQuery(db, s).execute();
}

/** searchCalls's query, for EXPLAIN. */
export function callSearchQuery(db: Db, s: CallSearch) {
  let q = db
    .selectFrom('retell_call_sessions')
    .select([
      'id',
      'call_id',
      'company_id',
      'agent_id',
      'call_status',
      'direction',
      'from_number',
      'to_number',
      'started_at',
      'ended_at',
      'disconnection_reason',
      'call_successful',
    ])
    .select(
      sql<string | null>`(select name from companies c where c.id = retell_call_sessions.company_id)`.as(
        'company_name',
      ),
    );
  if (s.id) q = q.where('call_id', '=', s.id);
  if (s.companyId) q = q.where('company_id', '=', s.companyId);
  if (s.status) q = q.where('call_status', '=', s.status as CallSession['call_status']);
  if (s.givenUp) q = q.where('call_status', '=', 'in_progress').where('reconcile_stopped_at', 'is not', null);
  if (s.agentId) q = q.where('agent_id', '=', s.agentId);
  if (s.agentVersion !== undefined) q = q.where('agent_version', '=', s.agentVersion);
  if (s.from) q = q.where('started_at', '>=', s.from);
  if (s.to) q = q.where('started_at', '<', s.to);
  if (s.callerDigits) {
    const reversed = [...s.callerDigits].reverse().join('');
    q = q.where(sql<SqlBool>`reverse(${customerNumber}) like ${reversed.replace(/[%_\\]/g, '') + '%'}`);
  }
  if (s.after) {
    const { at, id } = s.after;
    q = q.where(sql<SqlBool>`(started_at, id) < (${at}, ${id}::bigint)`);
  }
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(s.limit);
}

export interface EventSearch {
  statuses?: readonly WebhookEventStatus[];
  eventTypes?: readonly string[];
  /** Events of this company's calls and chats. */
  companyId?: string;
  from?: Date;
  to?: Date;
  after?: Keyset;
  limit: number;
}

export type EventRow = Pick<
  WebhookEvent,
  | 'id'
  | 'event_type'
  | 'call_id'
  | 'chat_id'
  | 'status'
  | 'attempts'
  | 'delivery_count'
  | 'error'
  | 'source'
  | 'created_at'
  | 'processed_at'
  | 'replay_count'
>;

/** Events matching the filter, newest first, one page after `after`. */
export async function searchEvents(db: Db, s: EventSearch): Promise<EventRow[]> {
  return eventSearchQuery(db, s).execute();
}

/** searchEvents's query, for EXPLAIN. */
export function eventSearchQuery(db: Db, s: EventSearch) {
  let q = db
    .selectFrom('webhook_events as e')
    .select([
      'e.id',
      'e.event_type',
      'e.call_id',
      'e.chat_id',
      'e.status',
      'e.attempts',
      'e.delivery_count',
      'e.error',
      'e.source',
      'e.created_at',
      'e.processed_at',
      'e.replay_count',
    ]);
  if (s.statuses?.length) q = q.where('e.status', 'in', [...s.statuses]);
  if (s.eventTypes?.length) q = q.where('e.event_type', 'in', [...s.eventTypes]);
  if (s.from) q = q.where('e.created_at', '>=', s.from);
  if (s.to) q = q.where('e.created_at', '<', s.to);
  if (s.companyId) {
    const company = s.companyId;
    q = q.where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('retell_call_sessions as c')
            .select(sql`1`.as('one'))
            .whereRef('c.call_id', '=', 'e.call_id')
            .where('c.company_id', '=', company),
        ),
        eb.exists(
          eb
            .selectFrom('retell_chat_sessions as h')
            .select(sql`1`.as('one'))
            .whereRef('h.chat_id', '=', 'e.chat_id')
            .where('h.company_id', '=', company),
        ),
      ]),
    );
  }
  if (s.after) {
    const { at, id } = s.after;
    q = q.where(sql<SqlBool>`(e.created_at, e.id) < (${at}, ${id}::bigint)`);
  }
  return q.orderBy('e.created_at', 'desc').orderBy('e.id', 'desc').limit(s.limit);
}

export interface MinuteCount {
  minute: Date;
  status: WebhookEventStatus;
  events: number;
}

/** Events received per minute and status since `since` (the chart's 24 hours). */
export async function eventsPerMinute(db: Db, since: Date): Promise<MinuteCount[]> {
  return (await eventsPerMinuteQuery(since).execute(db)).rows;
}

export function eventsPerMinuteQuery(since: Date) {
  return sql<MinuteCount>`
    select date_trunc('minute', created_at) as minute, status, count(*)::int as events
    from webhook_events where provider = 'retell' and created_at >= ${since}
    group by 1, 2 order by 1, 2`;
}

export interface DayOutcome {
  day: string;
  company: string;
  outcome: string;
  calls: number;
}

/**
 * Calls per day since `since` by outcome (successful, unsuccessful, not analyzed, in progress,
 * error, not connected) and company (its name, or unmapped).
 */
export async function callsPerDay(db: Db, since: Date): Promise<DayOutcome[]> {
  return (await callsPerDayQuery(since).execute(db)).rows;
}

export function callsPerDayQuery(since: Date) {
  return sql<DayOutcome>`
    select to_char(date_trunc('day', s.started_at), 'YYYY-MM-DD') as day,
      coalesce(c.name, 'unmapped') as company,
      case when s.call_status = 'in_progress' then 'in progress'
        when s.call_status in ('error', 'not_connected') then replace(s.call_status, '_', ' ')
        when s.call_successful is true then 'successful'
        when s.call_successful is false then 'unsuccessful'
        else 'not analyzed' end as outcome,
      count(*)::int as calls
    from retell_call_sessions s left join companies c on c.id = s.company_id
    where s.started_at >= ${since}
    group by 1, 2, 3 order by 1, 2, 3`;
}
