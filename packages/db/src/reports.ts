import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledQuery } from 'kysely';
import type { Db } from './database';

/** The monitoring SQL users already know lives in sql/reports/ (runnable with psql); this runs the same files. */
const REPORTS_DIR = join(__dirname, '..', '..', '..', 'sql', 'reports');

async function runReport<T>(db: Db, file: string, variable: string, value: string | number): Promise<T[]> {
  const text = readFileSync(join(REPORTS_DIR, file), 'utf8').replace(new RegExp(`:'?${variable}'?`, 'g'), '$1');
  const r = await db.executeQuery<T>(CompiledQuery.raw(text, [value]));
  return r.rows;
}

export interface ProcessingRate {
  event_type: string;
  total: number;
  processed: number;
  pending: number;
  failed: number;
  success_rate: number;
}

/** The "processing rate per event type" report over the last `window` (a Postgres interval, e.g. '24 hours'). */
export async function processingRate(db: Db, window: string): Promise<ProcessingRate[]> {
  const rows = await runReport<Record<string, string>>(db, 'processing-rate.sql', 'window', window);
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

/** The "sessions stuck in progress" report, for more than `minutes`. */
export async function staleSessions(db: Db, minutes: number): Promise<StaleSession[]> {
  return runReport<StaleSession>(db, 'stale-sessions.sql', 'minutes', minutes);
}

export interface StaleChat {
  chat_id: string;
  chat_type: string | null;
  started_at: Date;
  minutes_stuck: number;
}

/** Chats still ongoing for more than `minutes` (sql/reports/stale-chats.sql). */
export async function staleChats(db: Db, minutes: number): Promise<StaleChat[]> {
  return runReport<StaleChat>(db, 'stale-chats.sql', 'minutes', minutes);
}
