import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import type { Db } from './database';

/** The monitoring SQL users already know lives in sql/reports/ (runnable with psql); this runs the same files. */
const REPORTS_DIR = join(__dirname, '..', '..', '..', 'sql', 'reports');

/** A report file of sql/reports/ with its one psql variable bound, as a query (runReport runs it; tests EXPLAIN it). */
export function reportQuery(file: string, variable: string, value: string | number): CompiledQuery {
  const text = readFileSync(join(REPORTS_DIR, file), 'utf8').replace(new RegExp(`:'?${variable}'?`, 'g'), '$1');
  return CompiledQuery.raw(text, [value]);
}

async function runReport<T>(db: Db, file: string, variable: string, value: string | number): Promise<T[]> {
  return (await db.executeQuery<T>(reportQuery(file, variable, value))).rows;
}

export interface ProcessingRate {
  event_type: string;
  total: number;
  processed: number;
  pending: number;
  failed: number;
  success_rate: number;
}

/**
 * The "processing rate per event type" report over the last `window` (a Postgres interval, e.g.
 * '24 hours'); with `companyId`, only events of that company's calls and chats ('unmapped': of
 * calls and chats without a company).
 */
export async function processingRate(db: Db, window: string, companyId?: string): Promise<ProcessingRate[]> {
  const rows =
    companyId === undefined
      ? await runReport<Record<string, string>>(db, 'processing-rate.sql', 'window', window)
      : (
          await sql<Record<string, string>>`
            select event_type, count(*) as total,
              count(*) filter (where status = 'processed') as processed,
              count(*) filter (where status = 'pending') as pending,
              count(*) filter (where status = 'failed') as failed,
              round(100.0 * count(*) filter (where status = 'processed') / count(*), 2) as success_rate
            from webhook_events e
            left join retell_call_sessions s on s.call_id = e.call_id
            left join retell_chat_sessions c on c.chat_id = e.chat_id
            where e.provider = 'retell' and e.created_at >= now() - cast(${window} as interval)
              and (e.call_id is not null or e.chat_id is not null)
              and ${companyFilter(sql`coalesce(s.company_id, c.company_id)`, companyId)}
            group by event_type order by event_type`.execute(db)
        ).rows;
  return rows.map((r) => ({
    event_type: r.event_type!,
    total: Number(r.total),
    processed: Number(r.processed),
    pending: Number(r.pending),
    failed: Number(r.failed),
    success_rate: Number(r.success_rate),
  }));
}

export interface StaleSession {
  call_id: string;
  started_at: Date;
  minutes_stuck: number;
}

/** The "sessions stuck in progress" report, for more than `minutes` (of one company, with `companyId`). */
export async function staleSessions(db: Db, minutes: number, companyId?: string): Promise<StaleSession[]> {
  if (companyId === undefined) return runReport<StaleSession>(db, 'stale-sessions.sql', 'minutes', minutes);
  const { rows } = await sql<StaleSession>`
    select call_id, started_at, floor(extract(epoch from (now() - started_at)) / 60)::int as minutes_stuck
    from retell_call_sessions
    where call_status = 'in_progress' and started_at < now() - make_interval(mins => ${minutes})
      and ${companyFilter(sql`company_id`, companyId)}
    order by started_at desc`.execute(db);
  return rows;
}

/** `company_id = X`, or for 'unmapped' `company_id is null`. */
function companyFilter(column: ReturnType<typeof sql>, companyId: string) {
  return companyId === 'unmapped' ? sql`${column} is null` : sql`${column} = ${companyId}::bigint`;
}

export interface StaleChat {
  chat_id: string;
  chat_type: string | null;
  started_at: Date;
  minutes_stuck: number;
}

/** Chats still ongoing for more than `minutes` (sql/reports/stale-chats.sql); of one company, with `companyId`. */
export async function staleChats(db: Db, minutes: number, companyId?: string): Promise<StaleChat[]> {
  const rows = await runReport<StaleChat & { company_id: string | null }>(db, 'stale-chats.sql', 'minutes', minutes);
  if (companyId === undefined) return rows.map(({ company_id: _c, ...r }) => r);
  return rows
    .filter((r) => (companyId === 'unmapped' ? r.company_id === null : r.company_id === companyId))
    .map(({ company_id: _c, ...r }) => r);
}

export interface CompanySessions {
  kind: 'call' | 'chat';
  status: string;
  sessions: number;
}

/** A company's calls and chats first seen in the window, by status ('unmapped': those without a company). */
export async function companySessions(db: Db, window: string, companyId: string): Promise<CompanySessions[]> {
  const { rows } = await sql<{ kind: 'call' | 'chat'; status: string; sessions: string }>`
    select 'call' as kind, call_status as status, count(*) as sessions from retell_call_sessions
    where created_at >= now() - cast(${window} as interval) and ${companyFilter(sql`company_id`, companyId)}
    group by call_status
    union all
    select 'chat', chat_status, count(*) from retell_chat_sessions
    where created_at >= now() - cast(${window} as interval) and ${companyFilter(sql`company_id`, companyId)}
    group by chat_status
    order by 1, 2`.execute(db);
  return rows.map((r) => ({ ...r, sessions: Number(r.sessions) }));
}
