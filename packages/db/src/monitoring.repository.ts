import { sql } from 'kysely';
import type { Db } from './database';
import type { WebhookEvent } from './webhook-event.table';

/*
 * What the metrics, `make replay --wait`, `make demo`, `make bench` and `make chaos` read to see how
 * processing goes. One definition each of "pending" (received, not applied yet) and "stuck" (a call
 * still in_progress long after it started).
 */

/** Rows still `pending`, optionally only those received before `receivedBefore`. */
export async function countPendingEvents(db: Db, receivedBefore?: Date): Promise<number> {
  let q = db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'pending');
  if (receivedBefore) q = q.where('created_at', '<', receivedBefore);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Seconds since the oldest pending row was received; 0 when none is pending. */
export async function oldestPendingEventSeconds(db: Db): Promise<number> {
  const { rows } = await sql<{ s: number }>`
    select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as s
    from webhook_events where status = 'pending'`.execute(db);
  return rows[0]?.s ?? 0;
}

/** Pending rows among those of these calls (or chats). */
export async function countPendingEventsOfCalls(db: Db, callIds: readonly string[]): Promise<number> {
  if (callIds.length === 0) return 0;
  const ids = [...callIds];
  const r = await db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where((eb) => eb.or([eb('call_id', 'in', ids), eb('chat_id', 'in', ids)]))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Sessions still in_progress that started before `startedBefore` (the stale-sessions report's rows). */
/**
 * Calls in_progress that started before `startedBefore` and that reconciliation still polls: these
 * should close by themselves; one that stays is a problem to look at. Ones reconciliation stopped
 * polling are counted by countSessionsGivenUp instead, so this count can fall back to 0.
 */
export async function countSessionsStuckInProgress(db: Db, startedBefore: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_call_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('call_status', '=', 'in_progress')
    .where('reconcile_stopped_at', 'is', null)
    .where('started_at', '<', startedBefore)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Calls still in_progress that reconciliation stopped polling (Retell did not know them, or kept failing). */
export async function countSessionsGivenUp(db: Db): Promise<number> {
  const r = await db
    .selectFrom('retell_call_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('call_status', '=', 'in_progress')
    .where('reconcile_stopped_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface CompanySessionCount {
  /** The company's id, or 'unmapped' (no company, or one that is not in companies). */
  company: string;
  kind: 'call' | 'chat';
  status: string;
  sessions: number;
}

/**
 * Calls and chats callsync first saw since `since`, per company, kind and status: the per-tenant
 * metric. Labels stay bounded: only ids in companies, everything else is 'unmapped'.
 */
export async function countSessionsByCompany(db: Db, since: Date): Promise<CompanySessionCount[]> {
  const { rows } = await sql<{ company: string; kind: 'call' | 'chat'; status: string; sessions: string }>`
    select coalesce(co.id::text, 'unmapped') as company, 'call' as kind, s.call_status as status, count(*) as sessions
    from retell_call_sessions s left join companies co on co.id = s.company_id
    where s.created_at >= ${since} group by 1, 3
    union all
    select coalesce(co.id::text, 'unmapped'), 'chat', c.chat_status, count(*)
    from retell_chat_sessions c left join companies co on co.id = c.company_id
    where c.created_at >= ${since} group by 1, 3`.execute(db);
  return rows.map((r) => ({ ...r, sessions: Number(r.sessions) }));
}

/** Chats still `ongoing` that started before `startedBefore`. */
export async function countChatsStuckOngoing(db: Db, startedBefore: Date): Promise<number> {
  const r = await db
    .selectFrom('retell_chat_sessions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('chat_status', '=', 'ongoing')
    .where('started_at', '<', startedBefore)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Status and error of each row among `ids` (what `make replay --wait` prints). */
export async function findEventOutcomes(
  db: Db,
  ids: readonly string[],
): Promise<Pick<WebhookEvent, 'id' | 'status' | 'error'>[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('webhook_events')
    .select(['id', 'status', 'error'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .execute();
}
