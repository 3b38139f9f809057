import { sql } from 'kysely';
import type { Db } from './database';

/*
 * Retention deletes and rewrites in batches: each call is one short statement (its own transaction)
 * over at most `limit` rows, so no lock is held long and the ingress and workers keep going.
 */

/**
 * Strip payload, raw body and signature from events applied (processed or skipped) before `before`.
 * The rows stay for reports and dedupe. Failed rows keep their payload, so they can still be replayed.
 */
export async function pruneEventPayloads(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    with batch as (
      select id from webhook_events
      where status in ('processed', 'skipped') and pruned_at is null and processed_at < ${before}
      order by processed_at, id
      limit ${limit}
    )
    update webhook_events e set payload = '{}'::jsonb, raw_body = null, signature = null, pruned_at = now()
    from batch where e.id = batch.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Delete whole webhook_events rows received before `before`: applied ones, and failed ones nobody
 * replayed. Pending rows are never deleted (they are acknowledged and not yet applied).
 */
export async function deleteOldEventRows(db: Db, before: Date, limit: number): Promise<number> {
  // The oldest rows first, along webhook_events_console_idx (created_at, id).
  const r = await sql`
    with batch as (
      select id from webhook_events
      where provider = 'retell' and created_at < ${before} and status <> 'pending'
      order by created_at, id
      limit ${limit}
    )
    delete from webhook_events e using batch where e.id = batch.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Forwarding's share of payload retention: finished deliveries (delivered, failed, cancelled) before
 * `before` lose their session-mode body (it holds the transcript). A replay of one fails, saying so.
 */
export async function pruneDeliveryPayloads(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    with batch as (
      select id from forward_deliveries
      where status in ('delivered', 'failed', 'cancelled') and finished_at < ${before} and payload is not null
      order by finished_at limit ${limit}
    )
    update forward_deliveries f set payload = null from batch where f.id = batch.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Finished deliveries (and their attempts) before `before` go; unsent ones never do. */
export async function deleteOldDeliveries(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    with batch as (
      select id from forward_deliveries
      where status in ('delivered', 'failed', 'cancelled') and finished_at < ${before}
      order by finished_at limit ${limit}
    )
    delete from forward_deliveries f using batch where f.id = batch.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Remove the caller data of sessions that ended before `before`: numbers, transcript and recording
 * URL. The customer's number (from_number inbound, to_number outbound) is kept as `hashCaller` makes
 * it (a keyed hash, computed in the app: the key never reaches Postgres), so returning callers still
 * count; "anonymous" stays, it names no one. One batch per call, in one transaction: the rows are
 * locked (skipping any a worker holds) while their hashes are made.
 */
export async function pruneSessionPii(
  db: Db,
  before: Date,
  limit: number,
  hashCaller: (number: string) => string | null,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string; customer: string | null }>`
      select id, case when direction = 'outbound' then to_number else from_number end as customer
      from retell_call_sessions
      where pii_pruned_at is null and call_status <> 'in_progress' and coalesce(ended_at, updated_at) < ${before}
      order by coalesce(ended_at, updated_at), id
      limit ${limit}
      for update skip locked`.execute(trx);
    if (rows.length === 0) return 0;
    const hashes = rows.map((r) => (r.customer === null ? null : hashCaller(r.customer)));
    const r = await sql`
      update retell_call_sessions s set
        caller_hash = coalesce(b.hash, s.caller_hash),
        from_number = case when lower(s.from_number) = 'anonymous' then s.from_number end,
        to_number = case when lower(s.to_number) = 'anonymous' then s.to_number end,
        transcript = null, recording_url = null, pii_pruned_at = now()
      from unnest(${rows.map((x) => x.id)}::bigint[], ${hashes}::text[]) as b(id, hash)
      where s.id = b.id`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}

/** The same for chats that ended before `before`: the transcript goes (a chat has no numbers or recording). */
export async function pruneChatPii(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    with batch as (
      select id from retell_chat_sessions
      where pii_pruned_at is null and chat_status <> 'ongoing' and coalesce(ended_at, updated_at) < ${before}
      order by coalesce(ended_at, updated_at), id
      limit ${limit}
    )
    update retell_chat_sessions s set transcript = null, pii_pruned_at = now()
    from batch where s.id = batch.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Delete reconcile_runs rows started before `before`. */
export async function deleteOldReconcileRuns(db: Db, before: Date): Promise<number> {
  const r = await sql`delete from reconcile_runs where started_at < ${before}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** What one retention run removed. */
export interface RetentionCounts {
  payloadsPruned: number;
  eventRowsDeleted: number;
  sessionsPiiPruned: number;
  reconcileRunsDeleted: number;
}

export interface RetentionDays {
  payloadDays: number;
  eventRowDays: number;
  sessionPiiDays: number;
}

export async function startRetentionRun(db: Db, days: RetentionDays): Promise<string> {
  const row = await db
    .insertInto('retention_runs')
    .values({
      payload_days: days.payloadDays,
      event_row_days: days.eventRowDays,
      session_pii_days: days.sessionPiiDays,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function finishRetentionRun(db: Db, id: string, counts: RetentionCounts, error?: string): Promise<void> {
  await db
    .updateTable('retention_runs')
    .set({
      finished_at: sql<Date>`clock_timestamp()`,
      payloads_pruned: counts.payloadsPruned,
      event_rows_deleted: counts.eventRowsDeleted,
      sessions_pii_pruned: counts.sessionsPiiPruned,
      reconcile_runs_deleted: counts.reconcileRunsDeleted,
      error: error?.slice(0, 4000) ?? null,
    })
    .where('id', '=', id)
    .execute();
}

export interface RetentionSummary extends RetentionCounts {
  runs: number;
  lastRunAt: Date | null;
  lastError: string | null;
}

/** Totals of the retention runs started since `since`, and the newest run's time and error. */
export async function summarizeRetention(db: Db, since: Date): Promise<RetentionSummary> {
  const totals = await db
    .selectFrom('retention_runs')
    .select((eb) => [
      eb.fn.countAll<string>().as('runs'),
      eb.fn.coalesce(eb.fn.sum<string>('payloads_pruned'), sql<string>`0`).as('payloads'),
      eb.fn.coalesce(eb.fn.sum<string>('event_rows_deleted'), sql<string>`0`).as('rows'),
      eb.fn.coalesce(eb.fn.sum<string>('sessions_pii_pruned'), sql<string>`0`).as('sessions'),
      eb.fn.coalesce(eb.fn.sum<string>('reconcile_runs_deleted'), sql<string>`0`).as('reconcile'),
    ])
    .where('started_at', '>=', since)
    .executeTakeFirstOrThrow();
  const last = await db
    .selectFrom('retention_runs')
    .select(['started_at', 'error'])
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    runs: Number(totals.runs),
    payloadsPruned: Number(totals.payloads),
    eventRowsDeleted: Number(totals.rows),
    sessionsPiiPruned: Number(totals.sessions),
    reconcileRunsDeleted: Number(totals.reconcile),
    lastRunAt: last?.started_at ?? null,
    lastError: last?.error ?? null,
  };
}
