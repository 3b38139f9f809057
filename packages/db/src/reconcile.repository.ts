import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';

/** A position in a keyset walk: the last row of the previous batch. */
export interface SessionCursor {
  key: Date;
  id: string;
}

/** What reconciliation walks: calls or chats (the names discovery and the metrics use). */
export type SubjectTable = 'calls' | 'chats';

/** Where each kind lives: its table, its Retell id and status columns, and the status while it runs. */
const KINDS = {
  calls: { table: 'retell_call_sessions', id: 'call_id', status: 'call_status', open: 'in_progress' },
  chats: { table: 'retell_chat_sessions', id: 'chat_id', status: 'chat_status', open: 'ongoing' },
} as const;

/** A session to check, named by its Retell id column (`call_id` or `chat_id`), with its walk key. */
export type SubjectToReconcile<K extends SubjectTable> = { id: string; key: Date } & {
  [C in (typeof KINDS)[K]['id']]: string;
};
export type SessionToReconcile = SubjectToReconcile<'calls'>;
export type ChatToReconcile = SubjectToReconcile<'chats'>;

const startedKey = sql<Date>`started_at`;
const endedKey = sql<Date>`coalesce(ended_at, created_at)`;

// Literal statuses, as in the partial indexes' predicates (migration 0002, 0007), so the planner uses them.
const running = (kind: SubjectTable) => sql<boolean>`${sql.ref(KINDS[kind].status)} = ${sql.lit(KINDS[kind].open)}`;
const finished = (kind: SubjectTable) => sql<boolean>`${sql.ref(KINDS[kind].status)} <> ${sql.lit(KINDS[kind].open)}`;

/** Still running at Retell by our record, still polled, started before `cutoff`. */
const stale = (kind: SubjectTable, cutoff: Date) =>
  sql<boolean>`${running(kind)} and reconcile_stopped_at is null and started_at < ${cutoff}`;

/** Finished without analysis, still polled, ended before `cutoff`. */
const awaitingAnalysis = (kind: SubjectTable, cutoff: Date) =>
  sql<boolean>`analysis is null and ${finished(kind)} and reconcile_stopped_at is null and ${endedKey} < ${cutoff}`;

/** One batch of a keyset walk in (`key`, id) order over the sessions of `kind` that match `where`. */
async function findBatch<K extends SubjectTable>(
  db: Db,
  kind: K,
  key: RawBuilder<Date>,
  where: RawBuilder<boolean>,
  after: SessionCursor | null,
  limit: number,
): Promise<SubjectToReconcile<K>[]> {
  const { table, id } = KINDS[kind];
  let q = db
    .selectFrom(table)
    .select(['id', sql.ref<string>(id).as(id), key.as('key')])
    .where(where);
  if (after) q = q.where(sql<boolean>`(${key}, id) > (${after.key}, ${after.id})`);
  return (await q.orderBy(key).orderBy('id').limit(limit).execute()) as SubjectToReconcile<K>[];
}

async function countWhere(db: Db, kind: SubjectTable, where: RawBuilder<boolean>): Promise<number> {
  const r = await db
    .selectFrom(KINDS[kind].table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(where)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Calls (in_progress) or chats (ongoing) still polled, started before `cutoff`, in (started_at, id) order. */
export function findStaleSubjects<K extends SubjectTable>(
  db: Db,
  kind: K,
  cutoff: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<SubjectToReconcile<K>[]> {
  return findBatch(db, kind, startedKey, stale(kind, cutoff), after, limit);
}

export const countStaleSubjects = (db: Db, kind: SubjectTable, cutoff: Date): Promise<number> =>
  countWhere(db, kind, stale(kind, cutoff));

/**
 * Finished calls or chats without analysis that ended before `cutoff` and were not checked since
 * `notCheckedSince` (the pass's start: one it just closed is not asked about twice), in (end, id) order.
 */
export function findSubjectsAwaitingAnalysis<K extends SubjectTable>(
  db: Db,
  kind: K,
  cutoff: Date,
  notCheckedSince: Date,
  after: SessionCursor | null,
  limit: number,
): Promise<SubjectToReconcile<K>[]> {
  const notChecked = sql<boolean>`(reconcile_checked_at is null or reconcile_checked_at < ${notCheckedSince})`;
  return findBatch(db, kind, endedKey, sql<boolean>`${awaitingAnalysis(kind, cutoff)} and ${notChecked}`, after, limit);
}

export const countSubjectsAwaitingAnalysis = (db: Db, kind: SubjectTable, cutoff: Date): Promise<number> =>
  countWhere(db, kind, awaitingAnalysis(kind, cutoff));

export type ReconcileCheck = 'checked' | 'not_found' | 'failed' | 'no_analysis';

/** Stop polling once `column` (a count of answers in a row) reaches `limit` with this check. */
const stopAt = (column: string, limit: number) =>
  sql<Date | null>`coalesce(reconcile_stopped_at, case when ${sql.ref(column)} + 1 >= ${limit} then now() end)`;

/**
 * Record what one reconciliation check of a call or chat found. After `limit` not-found answers (or
 * checks without analysis), or `failureLimit` failed checks in a row, the session is marked stopped
 * and is no longer polled. reconcile_failure_count counts failures in a row: any answer resets it.
 */
export async function recordSubjectCheck(
  db: Db,
  kind: SubjectTable,
  subjectId: string,
  check: ReconcileCheck,
  limit: number,
  failureLimit = Number.POSITIVE_INFINITY,
): Promise<void> {
  const { table, id } = KINDS[kind];
  await db
    .updateTable(table)
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
              ? stopAt('reconcile_failure_count', failureLimit)
              : sql<Date | null>`reconcile_stopped_at`,
          };
        case 'not_found':
          return {
            ...base,
            reconcile_not_found_count: eb('reconcile_not_found_count', '+', 1),
            reconcile_stopped_at: stopAt('reconcile_not_found_count', limit),
          };
        case 'no_analysis':
          return {
            ...base,
            reconcile_analysis_checks: eb('reconcile_analysis_checks', '+', 1),
            reconcile_stopped_at: stopAt('reconcile_analysis_checks', limit),
          };
      }
    })
    .where(sql.ref(id), '=', subjectId)
    .execute();
}

/** `fn` for one kind: `(db, kind, ...args)` becomes `(db, ...args)`. */
const forKind =
  <K extends SubjectTable, A extends unknown[], R>(kind: K, fn: (db: Db, kind: K, ...args: A) => R) =>
  (db: Db, ...args: A): R =>
    fn(db, kind, ...args);

// The per-kind names the domain calls today: each is the one function above, for calls or for chats.
export const findStaleSessions = forKind('calls', findStaleSubjects<'calls'>);
export const findStaleChats = forKind('chats', findStaleSubjects<'chats'>);
export const countStaleSessions = forKind('calls', countStaleSubjects);
export const countStaleChats = forKind('chats', countStaleSubjects);
export const findSessionsAwaitingAnalysis = forKind('calls', findSubjectsAwaitingAnalysis<'calls'>);
export const findChatsAwaitingAnalysis = forKind('chats', findSubjectsAwaitingAnalysis<'chats'>);
export const countSessionsAwaitingAnalysis = forKind('calls', countSubjectsAwaitingAnalysis);
export const countChatsAwaitingAnalysis = forKind('chats', countSubjectsAwaitingAnalysis);
export const recordReconcileCheck = forKind('calls', recordSubjectCheck);
export const recordChatReconcileCheck = forKind('chats', recordSubjectCheck);

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
export async function findKnownSessions(db: Db, kind: SubjectTable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { table, id } = KINDS[kind];
  const rows = await db
    .selectFrom(table)
    .select(sql.ref<string>(id).as('id'))
    .where(sql.ref(id), 'in', [...ids])
    .execute();
  return new Set(rows.map((r) => r.id));
}
