import { sql } from 'kysely';
import type { Db } from './database';

/** A position in a keyset walk: the last row of the previous batch. */
export interface SessionCursor {
  key: Date;
  id: string;
}

export interface SessionToReconcile {
  id: string;
  call_id: string;
  key: Date;
}

/** Stale in_progress sessions still polled, started before `cutoff`, in (started_at, id) order. */
export async function findStaleSessions(
  db: Db,
  cutoff: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<SessionToReconcile[]> {
  let q = db
    .selectFrom('retell_call_sessions')
    .select(['id', 'call_id', sql<Date>`started_at`.as('key')])
    .where('call_status', '=', 'in_progress')
    .where('reconcile_stopped_at', 'is', null)
    .where('started_at', '<', cutoff);
  if (after) q = q.where(sql<boolean>`(started_at, id) > (${after.key}, ${after.id})`);
  return q.orderBy('started_at').orderBy('id').limit(limit).execute();
}

export async function countStaleSessions(db: Db, cutoff: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_call_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('call_status', '=', 'in_progress')
    .where('reconcile_stopped_at', 'is', null)
    .where('started_at', '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const endedKey = sql<Date>`coalesce(ended_at, created_at)`;

/**
 * Finished sessions without analysis that ended before `cutoff` and were not checked since
 * `notCheckedSince` (the pass's start: a call it just closed is not asked about twice), in (end, id) order.
 */
export async function findSessionsAwaitingAnalysis(
  db: Db,
  cutoff: Date,
  notCheckedSince: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<SessionToReconcile[]> {
  let q = db
    .selectFrom('retell_call_sessions')
    .select(['id', 'call_id', endedKey.as('key')])
    .where('analysis', 'is', null)
    .where('call_status', '<>', 'in_progress')
    .where('reconcile_stopped_at', 'is', null)
    .where(endedKey, '<', cutoff)
    .where((eb) => eb.or([eb('reconcile_checked_at', 'is', null), eb('reconcile_checked_at', '<', notCheckedSince)]));
  if (after) q = q.where(sql<boolean>`(coalesce(ended_at, created_at), id) > (${after.key}, ${after.id})`);
  return q.orderBy(endedKey).orderBy('id').limit(limit).execute();
}

export async function countSessionsAwaitingAnalysis(db: Db, cutoff: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_call_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('analysis', 'is', null)
    .where('call_status', '<>', 'in_progress')
    .where('reconcile_stopped_at', 'is', null)
    .where(endedKey, '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface ChatToReconcile {
  id: string;
  chat_id: string;
  key: Date;
}

const staleChat = (cutoff: Date) =>
  sql<boolean>`chat_status = 'ongoing' and reconcile_stopped_at is null and started_at < ${cutoff}`;

/** Ongoing chats still polled, started before `cutoff`, in (started_at, id) order. */
export async function findStaleChats(
  db: Db,
  cutoff: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<ChatToReconcile[]> {
  let q = db
    .selectFrom('retell_chat_sessions')
    .select(['id', 'chat_id', sql<Date>`started_at`.as('key')])
    .where(staleChat(cutoff));
  if (after) q = q.where(sql<boolean>`(started_at, id) > (${after.key}, ${after.id})`);
  return q.orderBy('started_at').orderBy('id').limit(limit).execute();
}

export async function countStaleChats(db: Db, cutoff: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_chat_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(staleChat(cutoff))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Ended chats without analysis that ended before `cutoff`, not checked since `notCheckedSince`, in (end, id) order. */
export async function findChatsAwaitingAnalysis(
  db: Db,
  cutoff: Date,
  notCheckedSince: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<ChatToReconcile[]> {
  let q = db
    .selectFrom('retell_chat_sessions')
    .select(['id', 'chat_id', endedKey.as('key')])
    .where('analysis', 'is', null)
    .where('chat_status', '<>', 'ongoing')
    .where('reconcile_stopped_at', 'is', null)
    .where(endedKey, '<', cutoff)
    .where((eb) => eb.or([eb('reconcile_checked_at', 'is', null), eb('reconcile_checked_at', '<', notCheckedSince)]));
  if (after) q = q.where(sql<boolean>`(coalesce(ended_at, created_at), id) > (${after.key}, ${after.id})`);
  return q.orderBy(endedKey).orderBy('id').limit(limit).execute();
}

export async function countChatsAwaitingAnalysis(db: Db, cutoff: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_chat_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('analysis', 'is', null)
    .where('chat_status', '<>', 'ongoing')
    .where('reconcile_stopped_at', 'is', null)
    .where(endedKey, '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export type ReconcileCheck = 'checked' | 'not_found' | 'failed' | 'no_analysis';

/** recordReconcileCheck for a chat. */
export async function recordChatReconcileCheck(
  db: Db,
  chatId: string,
  check: ReconcileCheck,
  limit: number,
  failureLimit = Number.POSITIVE_INFINITY,
): Promise<void> {
  await db
    .updateTable('retell_chat_sessions')
    .set((eb) => {
      if (check === 'failed')
        return {
          reconcile_checked_at: sql<Date>`now()`,
          reconcile_failure_count: eb('reconcile_failure_count', '+', 1),
          reconcile_stopped_at: Number.isFinite(failureLimit)
            ? sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_failure_count + 1 >= ${failureLimit} then now() end)`
            : sql<Date | null>`reconcile_stopped_at`,
        };
      const base = { reconcile_checked_at: sql<Date>`now()`, reconcile_failure_count: 0 };
      if (check === 'checked') return base;
      if (check === 'no_analysis')
        return {
          ...base,
          reconcile_analysis_checks: eb('reconcile_analysis_checks', '+', 1),
          reconcile_stopped_at: sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_analysis_checks + 1 >= ${limit} then now() end)`,
        };
      return {
        ...base,
        reconcile_not_found_count: eb('reconcile_not_found_count', '+', 1),
        reconcile_stopped_at: sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_not_found_count + 1 >= ${limit} then now() end)`,
      };
    })
    .where('chat_id', '=', chatId)
    .execute();
}

/**
 * Record what one reconciliation check found. After `limit` not-found answers (or checks without
 * analysis), or `failureLimit` failed checks in a row, the session is marked stopped and is no longer
 * polled. reconcile_failure_count counts failures in a row: any answer resets it.
 */
export async function recordReconcileCheck(
  db: Db,
  callId: string,
  check: ReconcileCheck,
  limit: number,
  failureLimit = Number.POSITIVE_INFINITY,
): Promise<void> {
  await db
    .updateTable('retell_call_sessions')
    .set((eb) => {
      const base = { reconcile_checked_at: sql<Date>`now()`, reconcile_failure_count: 0 };
      switch (check) {
        case 'checked':
          return base;
        case 'failed':
          return {
            reconcile_checked_at: sql<Date>`now()`,
            reconcile_failure_count: eb('reconcile_failure_count', '+', 1),
            reconcile_stopped_at: Number.isFinite(failureLimit)
              ? sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_failure_count + 1 >= ${failureLimit} then now() end)`
              : sql<Date | null>`reconcile_stopped_at`,
          };
        case 'not_found':
          return {
            ...base,
            reconcile_not_found_count: eb('reconcile_not_found_count', '+', 1),
            reconcile_stopped_at: sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_not_found_count + 1 >= ${limit} then now() end)`,
          };
        case 'no_analysis':
          return {
            ...base,
            reconcile_analysis_checks: eb('reconcile_analysis_checks', '+', 1),
            reconcile_stopped_at: sql<Date | null>`coalesce(reconcile_stopped_at, case when reconcile_analysis_checks + 1 >= ${limit} then now() end)`,
          };
      }
    })
    .where('call_id', '=', callId)
    .execute();
}

export interface ReconcileCounts {
  found: number;
  ended: number;
  ongoing: number;
  not_found: number;
  analyzed: number;
  failed: number;
  /** Calls and chats found at Retell that callsync had no session for (created now). */
  discovered: number;
}

export async function startReconcileRun(db: Db, trigger: 'scheduled' | 'manual', runner: string): Promise<string> {
  const r = await db.insertInto('reconcile_runs').values({ trigger, runner }).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

export async function finishReconcileRun(
  db: Db,
  id: string,
  counts: ReconcileCounts,
  error: string | null,
): Promise<void> {
  await db
    .updateTable('reconcile_runs')
    .set({ ...counts, error, finished_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', id)
    .execute();
}

/**
 * Run `fn` while holding the cluster-wide reconciliation lock (a Postgres advisory lock on one
 * connection), so no two passes, scheduled or manual, ever overlap. Waits for a running pass.
 */
export async function withReconcileLock<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext('callsync:reconcile'))`.execute(conn);
    try {
      return await fn();
    } finally {
      await sql`select pg_advisory_unlock(hashtext('callsync:reconcile'))`.execute(conn);
    }
  });
}

/** Where discovery of `kind` got to (ms epoch), or null before its first run. */
export async function findDiscoveryWatermark(db: Db, kind: 'calls' | 'chats'): Promise<number | null> {
  const row = await db
    .selectFrom('discovery_watermarks')
    .select('listed_until_ms')
    .where('kind', '=', kind)
    .executeTakeFirst();
  return row ? Number(row.listed_until_ms) : null;
}

/** Move the watermark forward (never back). */
export async function advanceDiscoveryWatermark(db: Db, kind: 'calls' | 'chats', untilMs: number): Promise<void> {
  await sql`
    insert into discovery_watermarks (kind, listed_until_ms) values (${kind}, ${untilMs})
    on conflict (kind) do update set listed_until_ms = greatest(discovery_watermarks.listed_until_ms, excluded.listed_until_ms),
      updated_at = now()`.execute(db);
}

/** Which of these calls (or chats) have a session already. */
export async function findKnownSessions(db: Db, kind: 'calls' | 'chats', ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows =
    kind === 'calls'
      ? await db
          .selectFrom('retell_call_sessions')
          .select('call_id as id')
          .where('call_id', 'in', [...ids])
          .execute()
      : await db
          .selectFrom('retell_chat_sessions')
          .select('chat_id as id')
          .where('chat_id', 'in', [...ids])
          .execute();
  return new Set(rows.map((r) => r.id));
}
