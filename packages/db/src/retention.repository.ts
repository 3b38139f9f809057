import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';

/*
 * Retention deletes and rewrites in batches: each call is one short statement (its own transaction)
 * over at most `limit` rows, so no lock is held long and the ingress and workers keep going.
 */

type BatchTable =
  'webhook_events' | 'forward_deliveries' | 'retell_chat_sessions' | 'function_calls' | 'retell_call_transfer_events';

/**
 * One batch: the first `limit` rows of `table` that `due` picks (a condition and the order, the oldest
 * first along an index), then either deleted or updated with `set` (the table is `t` in it). `lock`
 * skips rows another transaction holds; `onlyIf` leaves picked rows that fail it untouched. The rows changed.
 */
async function changeBatch(
  db: Db,
  table: BatchTable,
  due: RawBuilder<unknown>,
  limit: number,
  change: { set: RawBuilder<unknown>; lock?: boolean; onlyIf?: RawBuilder<boolean> } | 'delete',
): Promise<number> {
  const lock = change !== 'delete' && change.lock ? sql`for update skip locked` : sql``;
  const batch = sql`with batch as (select id from ${sql.table(table)} where ${due} limit ${limit} ${lock})`;
  const r = await (
    change === 'delete'
      ? sql`${batch} delete from ${sql.table(table)} t using batch where t.id = batch.id`
      : sql`${batch} update ${sql.table(table)} t set ${change.set}
          from batch where t.id = batch.id ${change.onlyIf ? sql`and ${change.onlyIf}` : sql``}`
  ).execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * An event row no unsent forward delivery still needs: raw mode sends the event's body as received,
 * so it stays until every raw delivery of it is sent (session mode carries its own body).
 */
const noUnsentDelivery = sql`not exists (select 1 from forward_deliveries f
  where f.webhook_event_id = webhook_events.id and f.status in ('pending', 'held') and f.payload is null)`;

/** What an event loses to retention: all it carried, payload, raw body, signature and inbound answer. */
const STRIPPED_EVENT = sql`payload = '{}'::jsonb, raw_body = null, signature = null, answer = null, pruned_at = now()`;

/**
 * Strip payload, raw body, signature and inbound answer from events applied (processed or skipped)
 * before `before`. The rows stay for reports and dedupe. Failed rows keep their payload until
 * pruneFailedEventPayloads, so they can be replayed until then.
 */
export function pruneEventPayloads(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`status in ('processed', 'skipped') and pruned_at is null and processed_at < ${before}
    and ${noUnsentDelivery} order by processed_at, id`;
  return changeBatch(db, 'webhook_events', due, limit, { set: STRIPPED_EVENT });
}

/** The same for failed rows received before `before` (a shorter period): they can no longer be replayed. */
export function pruneFailedEventPayloads(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`status = 'failed' and pruned_at is null and created_at < ${before} order by created_at, id`;
  return changeBatch(db, 'webhook_events', due, limit, { set: STRIPPED_EVENT });
}

/**
 * Delete whole webhook_events rows received before `before`: applied ones, and failed ones nobody
 * replayed. Pending rows are never deleted (they are acknowledged and not yet applied).
 */
export function deleteOldEventRows(db: Db, before: Date, limit: number): Promise<number> {
  // The oldest rows first, along webhook_events_console_idx (created_at, id).
  const due = sql`provider = 'retell' and created_at < ${before} and status <> 'pending'
    and ${noUnsentDelivery} order by created_at, id`;
  return changeBatch(db, 'webhook_events', due, limit, 'delete');
}

/** Deliveries that are over (delivered, failed, cancelled) since before `before`, the oldest first. */
const finishedDeliveries = (before: Date) =>
  sql`status in ('delivered', 'failed', 'cancelled') and finished_at < ${before}`;

/**
 * Forwarding's share of payload retention: finished deliveries (delivered, failed, cancelled) before
 * `before` lose their session-mode body (it holds the transcript). A replay of one fails, saying so.
 */
export function pruneDeliveryPayloads(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`${finishedDeliveries(before)} and payload is not null order by finished_at`;
  return changeBatch(db, 'forward_deliveries', due, limit, { set: sql`payload = null` });
}

/**
 * Unsent deliveries (pending, or held by a paused destination) keep their body past RETENTION_DAYS:
 * the event's raw body stays while one needs it (noUnsentDelivery), and a session-mode body is not
 * pruned. Only once the personal-data period is over (`before`: SESSION_PII_RETENTION_DAYS ago) is one
 * still unsent cancelled as expired, its body with it: the caller's data may not outlive that period.
 */
export function expireUnsentDeliveries(db: Db, before: Date, days: number, limit: number): Promise<number> {
  const due = sql`status in ('pending', 'held') and created_at < ${before} order by created_at, id`;
  const set = sql`status = 'cancelled', payload = null, lease_until = null, finished_at = now(),
    last_error = ${`expired: not sent within ${days} days (SESSION_PII_RETENTION_DAYS)`}`;
  return changeBatch(db, 'forward_deliveries', due, limit, { set, lock: true });
}

/** Finished deliveries (and their attempts) before `before` go; unsent ones never do. */
export function deleteOldDeliveries(db: Db, before: Date, limit: number): Promise<number> {
  return changeBatch(
    db,
    'forward_deliveries',
    sql`${finishedDeliveries(before)} order by finished_at`,
    limit,
    'delete',
  );
}

/** What a session loses to retention: every column that says something about the caller. */
const SESSION_PII = sql`
  from_number = case when lower(s.from_number) = 'anonymous' then s.from_number end,
  to_number = case when lower(s.to_number) = 'anonymous' then s.to_number end,
  transcript = null, recording_url = null, analysis = null, call_summary = null, custom_analysis_data = null,
  metadata = null, retell_llm_dynamic_variables = null, collected_dynamic_variables = null,
  telephony_identifier = null, transfers = '[]'::jsonb, pii_pruned_at = now(),
  -- Reconciliation no longer asks Retell about it: its answer would bring the data back.
  reconcile_stopped_at = coalesce(s.reconcile_stopped_at, now())`;

/**
 * Remove the caller data of sessions that ended before `before`, or (`neverEnded`) that started
 * before it and never ended: numbers, transcript, recording URL, summary and analysis (the columns
 * call_successful, user_sentiment and in_voicemail stay), metadata, variables, telephony ids and
 * transfers. The customer's number (from_number inbound, to_number outbound) is kept as `hashCaller`
 * makes it (a keyed hash, computed in the app: the key never reaches Postgres), so returning callers
 * still count; "anonymous" stays, it names no one. One batch per call, in one transaction: the rows
 * are locked (skipping any a worker holds) while their hashes are made.
 */
export async function pruneSessionPii(
  db: Db,
  before: Date,
  limit: number,
  hashCaller: (number: string) => string | null,
  options: { neverEnded?: boolean } = {},
): Promise<number> {
  // Each form walks an index: the pii retention index (ended), the in_progress one (never ended).
  const due = options.neverEnded
    ? sql`pii_pruned_at is null and call_status = 'in_progress' and started_at < ${before}
        order by started_at, id`
    : sql`pii_pruned_at is null and call_status <> 'in_progress' and coalesce(ended_at, updated_at) < ${before}
        order by coalesce(ended_at, updated_at), id`;
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string; customer: string | null }>`
      select id, case when direction = 'outbound' then to_number else from_number end as customer
      from retell_call_sessions
      where ${due}
      limit ${limit}
      for update skip locked`.execute(trx);
    if (rows.length === 0) return 0;
    const hashes = rows.map((r) => (r.customer === null ? null : hashCaller(r.customer)));
    const r = await sql`
      update retell_call_sessions s set caller_hash = coalesce(b.hash, s.caller_hash), ${SESSION_PII}
      from unnest(${rows.map((x) => x.id)}::bigint[], ${hashes}::text[]) as b(id, hash)
      where s.id = b.id`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}

/**
 * The same for chats that ended before `before`, or started before it and never ended: transcript,
 * summary and analysis, metadata and variables (a chat has no numbers or recording).
 */
export function pruneChatPii(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`pii_pruned_at is null
    and ((chat_status <> 'ongoing' and coalesce(ended_at, updated_at) < ${before})
      or (chat_status = 'ongoing' and started_at < ${before}))
    order by id`;
  const set = sql`transcript = null, analysis = null, chat_summary = null,
    custom_analysis_data = null, metadata = null, retell_llm_dynamic_variables = null,
    collected_dynamic_variables = null, pii_pruned_at = now(),
    reconcile_stopped_at = coalesce(t.reconcile_stopped_at, now())`;
  return changeBatch(db, 'retell_chat_sessions', due, limit, { set });
}

/** Function calls made before `before` lose their args, result and error (name, status and duration stay). */
export function pruneFunctionCalls(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`pruned_at is null and created_at < ${before} order by created_at, id`;
  const set = sql`args = '{}'::jsonb, result = null, error = null, pruned_at = now()`;
  // A running call's args are still needed to answer it; the next run prunes it.
  return changeBatch(db, 'function_calls', due, limit, { set, onlyIf: sql<boolean>`t.status <> 'running'` });
}

/** Transfer events received before `before` lose where the call went and how. */
export function pruneTransferEvents(db: Db, before: Date, limit: number): Promise<number> {
  const due = sql`pruned_at is null and received_at < ${before} order by received_at, id`;
  const set = sql`destination = null, destination_extension = null, transfer_destination = null,
    transfer_option = null, pruned_at = now()`;
  return changeBatch(db, 'retell_call_transfer_events', due, limit, { set });
}

/** 1 when the newest retention run recorded a failed step, 0 when it did not (or none ran yet). */
export async function lastRetentionRunFailed(db: Db): Promise<number> {
  const row = await db
    .selectFrom('retention_runs')
    .select('error')
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.error ? 1 : 0;
}

/** Delete reconcile_runs rows started before `before`. */
export async function deleteOldReconcileRuns(db: Db, before: Date): Promise<number> {
  const r = await sql`delete from reconcile_runs where started_at < ${before}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** What one retention run removed. */
export interface RetentionCounts {
  payloadsPruned: number;
  failedPayloadsPruned: number;
  eventRowsDeleted: number;
  sessionsPiiPruned: number;
  functionCallsPruned: number;
  transferEventsPruned: number;
  deliveriesExpired: number;
  reconcileRunsDeleted: number;
}

export interface RetentionDays {
  payloadDays: number;
  eventRowDays: number;
  sessionPiiDays: number;
  failedPayloadDays: number;
}

export async function startRetentionRun(db: Db, days: RetentionDays): Promise<string> {
  const row = await db
    .insertInto('retention_runs')
    .values({
      payload_days: days.payloadDays,
      event_row_days: days.eventRowDays,
      session_pii_days: days.sessionPiiDays,
      failed_payload_days: days.failedPayloadDays,
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
      failed_payloads_pruned: counts.failedPayloadsPruned,
      function_calls_pruned: counts.functionCallsPruned,
      transfer_events_pruned: counts.transferEventsPruned,
      deliveries_expired: counts.deliveriesExpired,
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
      eb.fn.coalesce(eb.fn.sum<string>('failed_payloads_pruned'), sql<string>`0`).as('failed'),
      eb.fn.coalesce(eb.fn.sum<string>('function_calls_pruned'), sql<string>`0`).as('functions'),
      eb.fn.coalesce(eb.fn.sum<string>('transfer_events_pruned'), sql<string>`0`).as('transfers'),
      eb.fn.coalesce(eb.fn.sum<string>('deliveries_expired'), sql<string>`0`).as('expired'),
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
    failedPayloadsPruned: Number(totals.failed),
    functionCallsPruned: Number(totals.functions),
    transferEventsPruned: Number(totals.transfers),
    deliveriesExpired: Number(totals.expired),
    lastRunAt: last?.started_at ?? null,
    lastError: last?.error ?? null,
  };
}
