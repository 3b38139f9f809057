import { sql } from 'kysely';
import type { Db } from './database';
import type { CallSession } from './call-session.table';
import type { ChatSession } from './chat-session.table';
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

/** Rows processed at or after `since`: how many, and the first and last processing time. */
export async function processedSince(
  db: Db,
  since: Date,
): Promise<{ events: number; first: Date | null; last: Date | null }> {
  const r = await sql<{ n: string; first: Date | null; last: Date | null }>`
    select count(*) as n, min(processed_at) as first, max(processed_at) as last
    from webhook_events where processed_at >= ${since}`.execute(db);
  const row = r.rows[0]!;
  return { events: Number(row.n), first: row.first, last: row.last };
}

/** Received-to-processed latency of the rows received at or after `since`, in ms. */
export async function processingLatency(
  db: Db,
  since: Date,
): Promise<{ events: number; p50Ms: number; p99Ms: number }> {
  const r = await sql<{ n: string; p50: number | null; p99: number | null }>`
    select count(*) as n,
           percentile_cont(0.5) within group (order by extract(epoch from processed_at - created_at) * 1000) as p50,
           percentile_cont(0.99) within group (order by extract(epoch from processed_at - created_at) * 1000) as p99
    from webhook_events where created_at >= ${since}`.execute(db);
  const row = r.rows[0]!;
  return { events: Number(row.n), p50Ms: Math.round(row.p50 ?? 0), p99Ms: Math.round(row.p99 ?? 0) };
}

/** Every event row, for checking a whole run (`make chaos`): small databases only. */
export async function findAllWebhookEvents(
  db: Db,
): Promise<
  Pick<
    WebhookEvent,
    'id' | 'event_type' | 'call_id' | 'chat_id' | 'dedupe_key' | 'status' | 'delivery_count' | 'payload' | 'created_at'
  >[]
> {
  return db
    .selectFrom('webhook_events')
    .select([
      'id',
      'event_type',
      'call_id',
      'chat_id',
      'dedupe_key',
      'status',
      'delivery_count',
      'payload',
      'created_at',
    ])
    .execute();
}

/** Every session row, for checking a whole run (`make chaos`): small databases only. */
export async function findAllCallSessions(db: Db): Promise<CallSession[]> {
  return db.selectFrom('retell_call_sessions').selectAll().execute();
}

/** Every chat session row (`make chaos`): small databases only. */
export async function findAllChatSessions(db: Db): Promise<ChatSession[]> {
  return db.selectFrom('retell_chat_sessions').selectAll().execute();
}

/**
 * Hold a SHARE lock on webhook_events for `ms`: every INSERT and every claim waits meanwhile, reads
 * go on. `make chaos` uses it to play a database that stalls.
 */
export async function holdWebhookEventsLock(db: Db, ms: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`lock table webhook_events in share mode`.execute(trx);
    await new Promise((resolve) => setTimeout(resolve, ms));
  });
}

/**
 * `make bench`'s sweeper measurement: `rows` pending call_started rows stored 10 minutes ago (older
 * than the sweep's threshold), inserted in chunks and vacuumed as autovacuum would have; their ids in
 * numeric order.
 */
export async function seedPendingEventsForBench(db: Db, rows: number): Promise<string[]> {
  const chunk = 200_000;
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1);
    await sql`
      insert into webhook_events (event_type, event_id, call_id, dedupe_key, payload, status, created_at)
      select 'call_started', 'call_' || g, 'call_' || g, 'bench:' || g, '{}'::jsonb, 'pending', now() - interval '10 minutes'
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
  }
  // Without it the first scan pays for setting every row's hint bits, which a table filled over time has long paid.
  await sql`vacuum (analyze) webhook_events`.execute(db);
  // Numeric order (an "order by id" here would sort the text alias).
  const { rows: ids } = await sql<{ id: string }>`
    select id::text as id from webhook_events order by webhook_events.id`.execute(db);
  return ids.map((r) => r.id);
}
