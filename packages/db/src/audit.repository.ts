import { sql } from 'kysely';
import type { Db } from './database';
import type { AuditGapReason, AuditGapRecord, AuditRun } from './audit-run.table';

/*
 * The completeness audit's reads (what callsync has for calls and chats Retell listed) and its
 * record (audit_runs). Forward deliveries are read here, not through forward.repository: the audit
 * only looks, and a query of its own keeps it apart from how forwarding works.
 */

/** The company label of calls no company owns (as in callsync_sessions_24h). */
export const UNMAPPED_COMPANY = 'unmapped';

/** Gaps kept by id per company and run; the counts stay exact beyond it. */
export const AUDIT_GAPS_KEPT = 500;

/** What callsync has for one call or chat the audit asks about. */
export interface AuditedSession {
  id: string;
  /** call_status or chat_status. */
  status: string;
  analyzed: boolean;
  /** The company's id, or null when none owns it. */
  companyId: string | null;
}

/** Sessions of these calls (kind 'calls') or chats, by Retell's id. */
export async function findAuditedSessions(
  db: Db,
  kind: 'calls' | 'chats',
  ids: readonly string[],
): Promise<Map<string, AuditedSession>> {
  if (ids.length === 0) return new Map();
  const rows =
    kind === 'calls'
      ? await db
          .selectFrom('retell_call_sessions')
          .select(['call_id as id', 'call_status as status', 'analyzed_at', 'company_id'])
          .where('call_id', 'in', [...ids])
          .execute()
      : await db
          .selectFrom('retell_chat_sessions')
          .select(['chat_id as id', 'chat_status as status', 'analyzed_at', 'company_id'])
          .where('chat_id', 'in', [...ids])
          .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, status: r.status, analyzed: r.analyzed_at !== null, companyId: r.company_id ?? null },
    ]),
  );
}

/** The company each of these agents belongs to (agents no company owns are left out). */
export async function findAgentCompanies(db: Db, agentIds: readonly string[]): Promise<Map<string, string>> {
  if (agentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('retell_agents')
    .select(['agent_id', 'company_id'])
    .where('agent_id', 'in', [...new Set(agentIds)])
    .where('company_id', 'is not', null)
    .execute();
  return new Map(rows.map((r) => [r.agent_id, r.company_id!]));
}

/** Every company's id and name. */
export async function listCompanyNames(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('companies').select(['id', 'name']).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** An applied event of a subject that a matching destination has not (yet) received. */
export interface UnforwardedEvent {
  /** The call's or chat's id. */
  subject: string;
  destinationId: string;
  eventType: string;
  /** The delivery's status (pending, held, failed), or null when none was queued. */
  status: string | null;
}

/**
 * Applied events of these subjects that a destination matching them (not removed, its company or
 * every company, subscribed to the event, there when the event was applied) has no delivered (or
 * deliberately cancelled) delivery of.
 */
export async function findUnforwardedEvents(db: Db, subjects: readonly string[]): Promise<UnforwardedEvent[]> {
  if (subjects.length === 0) return [];
  const { rows } = await sql<{
    subject: string;
    destination_id: string;
    event_type: string;
    status: string | null;
  }>`
    select coalesce(e.call_id, e.chat_id) as subject, d.id as destination_id, e.event_type,
      (select f.status from forward_deliveries f
        where f.webhook_event_id = e.id and f.destination_id = d.id
        order by (f.status in ('delivered', 'cancelled')) asc, f.id desc limit 1) as status
    from webhook_events e
    left join retell_call_sessions cs on cs.call_id = e.call_id
    left join retell_chat_sessions ch on ch.chat_id = e.chat_id
    join forward_destinations d on d.state <> 'removed' and e.event_type = any(d.events)
      and (d.company_id is null or d.company_id = coalesce(cs.company_id, ch.company_id))
      and d.created_at <= coalesce(e.processed_at, e.created_at)
    where (e.call_id = any(${[...subjects]}::text[]) or e.chat_id = any(${[...subjects]}::text[]))
      and e.status = 'processed'`.execute(db);
  return rows
    .filter((r) => r.status !== 'delivered' && r.status !== 'cancelled')
    .map((r) => ({ subject: r.subject, destinationId: r.destination_id, eventType: r.event_type, status: r.status }));
}

/** What an audit found for one company: its counts, and its gaps per reason. */
export interface CompanyAuditCounts {
  /** The company's id, or `unmapped`. */
  company: string;
  companyName: string | null;
  listed: number;
  complete: number;
  inFlight: number;
  gaps: number;
  overdue: number;
  gapReasons: Partial<Record<AuditGapReason, number>>;
  /** Gaps older than the grace period, per reason. */
  overdueReasons: Partial<Record<AuditGapReason, number>>;
}

/** One company's part of an audit run, as recordAuditRun writes it. */
export interface NewAuditRun extends CompanyAuditCounts {
  gapList: AuditGapRecord[];
}

/** Record one audit run: a row per company, sharing `runId`. */
export async function recordAuditRun(
  db: Db,
  run: {
    runId: string;
    trigger: 'scheduled' | 'manual';
    windowStart: Date;
    windowEnd: Date;
    graceSeconds: number;
    companies: readonly NewAuditRun[];
  },
): Promise<void> {
  if (run.companies.length === 0) return;
  await db
    .insertInto('audit_runs')
    .values(
      run.companies.map((c) => ({
        run_id: run.runId,
        trigger: run.trigger,
        company: c.company,
        company_name: c.companyName,
        window_start: run.windowStart,
        window_end: run.windowEnd,
        grace_seconds: Math.round(run.graceSeconds),
        listed: c.listed,
        complete: c.complete,
        in_flight: c.inFlight,
        gaps: c.gaps,
        overdue: c.overdue,
        gap_reasons: JSON.stringify(c.gapReasons),
        overdue_reasons: JSON.stringify(c.overdueReasons),
        gap_list: JSON.stringify(c.gapList.slice(0, AUDIT_GAPS_KEPT)),
      })),
    )
    .execute();
}

/**
 * The newest audit result of every company (one row each, newest first): what the gauges, the
 * notifier's "audit gaps" condition and the daily summary read. `trigger` keeps to scheduled (daily)
 * or manual (`make audit`) runs; default both.
 */
export async function latestAuditRuns(db: Db, options: { trigger?: 'scheduled' | 'manual' } = {}): Promise<AuditRun[]> {
  let q = db.selectFrom('audit_runs').selectAll().distinctOn('company');
  if (options.trigger) q = q.where('trigger', '=', options.trigger);
  const rows = await q.orderBy('company').orderBy('finished_at', 'desc').orderBy('id', 'desc').execute();
  return rows.sort((a, b) => b.finished_at.getTime() - a.finished_at.getTime());
}

/** Delete audit_runs rows finished before `before` (retention). */
export async function deleteOldAuditRuns(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('audit_runs').where('finished_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
}
