import { sql } from 'kysely';
import type { Db } from './database';

/*
 * Erasure of one caller or call (make forget). Each function removes the personal data of one table
 * for the given calls or chats and keeps the rows (ids, statuses, times, counts), so reports, dedupe
 * and forwarding chains still work. Each returns how many rows still had something to remove, so a
 * second run reports 0 and changes nothing.
 */

/** Why an event or delivery was not applied or sent: its call or chat was erased. */
export const ERASED = 'erased on request (make forget): not applied, its payload removed';

/**
 * The calls of one customer: sessions whose customer number (from_number inbound, to_number
 * outbound) is `number`, or whose caller_hash is one of `hashes` (sessions retention already pruned).
 */
export async function findCallsOfCaller(db: Db, number: string, hashes: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ call_id: string }>`
    select call_id from retell_call_sessions s
    where reverse(case when s.direction = 'outbound' then s.to_number else s.from_number end) = reverse(${number}::text)
    union
    select call_id from retell_call_sessions where caller_hash = any(${[...hashes]}::text[])`.execute(db);
  return rows.map((r) => r.call_id);
}

/** Of `ids`, the ones that are calls callsync has a session for, and the ones that are chats. */
export async function findSubjects(db: Db, ids: readonly string[]): Promise<{ calls: string[]; chats: string[] }> {
  if (ids.length === 0) return { calls: [], chats: [] };
  const [calls, chats] = await Promise.all([
    db
      .selectFrom('retell_call_sessions')
      .select('call_id')
      .where('call_id', 'in', [...ids])
      .execute(),
    db
      .selectFrom('retell_chat_sessions')
      .select('chat_id')
      .where('chat_id', 'in', [...ids])
      .execute(),
  ]);
  return { calls: calls.map((c) => c.call_id), chats: chats.map((c) => c.chat_id) };
}

const count = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0);

/**
 * Sessions: numbers, transcript, recording, analysis and its copies, metadata, variables, transfers,
 * telephony ids and caller hash go; ids, status, times, duration, reason, agent, company and cost stay.
 */
export async function eraseCallSessions(db: Db, callIds: readonly string[]): Promise<number> {
  if (callIds.length === 0) return 0;
  return count(
    await sql`
      update retell_call_sessions set
        from_number = case when lower(from_number) = 'anonymous' then from_number end,
        to_number = case when lower(to_number) = 'anonymous' then to_number end,
        transcript = null, recording_url = null, analysis = null, call_summary = null,
        custom_analysis_data = null, metadata = null, retell_llm_dynamic_variables = null,
        collected_dynamic_variables = null, telephony_identifier = null, transfers = '[]'::jsonb,
        caller_hash = null, erased_at = coalesce(erased_at, now()), updated_at = now(),
        -- Reconciliation asks Retell about it no more (it would bring the analysis back).
        reconcile_stopped_at = coalesce(reconcile_stopped_at, now())
      where call_id = any(${[...callIds]}::text[]) and erased_at is null`.execute(db),
  );
}

/** Chats: transcript, analysis, metadata and variables go. */
export async function eraseChatSessions(db: Db, chatIds: readonly string[]): Promise<number> {
  if (chatIds.length === 0) return 0;
  return count(
    await sql`
      update retell_chat_sessions set
        transcript = null, analysis = null, chat_summary = null, custom_analysis_data = null, metadata = null,
        retell_llm_dynamic_variables = null, collected_dynamic_variables = null,
        erased_at = coalesce(erased_at, now()), updated_at = now(),
        reconcile_stopped_at = coalesce(reconcile_stopped_at, now())
      where chat_id = any(${[...chatIds]}::text[]) and erased_at is null`.execute(db),
  );
}

/**
 * The events of the calls and chats (inbound records named by call_id included): payload, raw body,
 * signature and answer go. Rows not applied yet are skipped, so nothing is applied from them.
 */
export async function eraseEventsOf(
  db: Db,
  subjects: { callIds: readonly string[]; chatIds: readonly string[] },
): Promise<number> {
  if (subjects.callIds.length + subjects.chatIds.length === 0) return 0;
  return count(
    await sql`
      update webhook_events set
        payload = '{}'::jsonb, raw_body = null, signature = null, answer = null,
        pruned_at = coalesce(pruned_at, now()),
        status = case when status in ('pending', 'failed') then 'skipped' else status end,
        error = case when status in ('pending', 'failed') then ${ERASED} else error end
      where (call_id = any(${[...subjects.callIds]}::text[]) or chat_id = any(${[...subjects.chatIds]}::text[]))
        and (payload <> '{}'::jsonb or raw_body is not null or signature is not null or answer is not null)`.execute(
      db,
    ),
  );
}

/** Inbound webhooks from `number` (call_inbound, chat_inbound), whichever call they led to. */
export async function eraseInboundRecordsFrom(db: Db, number: string): Promise<number> {
  return count(
    await sql`
      update webhook_events set
        payload = '{}'::jsonb, raw_body = null, signature = null, answer = null, pruned_at = coalesce(pruned_at, now())
      where event_type in ('call_inbound', 'chat_inbound')
        and (payload -> 'call_inbound' ->> 'from_number' = ${number} or payload -> 'chat_inbound' ->> 'from_number' = ${number})`.execute(
      db,
    ),
  );
}

/** Function calls during the calls: args, result and error go; name, status and duration stay. */
export async function eraseFunctionCalls(db: Db, callIds: readonly string[]): Promise<number> {
  if (callIds.length === 0) return 0;
  return count(
    await sql`
      update function_calls set args = '{}'::jsonb, result = null, error = null
      where call_id = any(${[...callIds]}::text[]) and (args <> '{}'::jsonb or result is not null or error is not null)`.execute(
      db,
    ),
  );
}

/** Transfer events of the calls: where they went and how. */
export async function eraseTransferEvents(db: Db, callIds: readonly string[]): Promise<number> {
  if (callIds.length === 0) return 0;
  return count(
    await sql`
      update retell_call_transfer_events set
        destination = null, destination_extension = null, transfer_destination = null, transfer_option = null
      where call_id = any(${[...callIds]}::text[])
        and (destination is not null or transfer_destination is not null or transfer_option is not null)`.execute(db),
  );
}

/**
 * Deliveries to the team's destinations about the calls and chats: bodies and answers go; unsent
 * ones are cancelled with the reason, so nothing about them is sent after the erasure.
 */
export async function eraseDeliveriesOf(db: Db, subjects: readonly string[]): Promise<number> {
  if (subjects.length === 0) return 0;
  const ids = [...subjects];
  await sql`
    update forward_attempts a set response_excerpt = null, error = null
    from forward_deliveries d
    where d.id = a.delivery_id and d.subject = any(${ids}::text[])
      and (a.response_excerpt is not null or a.error is not null)`.execute(db);
  return count(
    await sql`
      update forward_deliveries set
        payload = null,
        status = case when status in ('pending', 'held') then 'cancelled' else status end,
        last_error = case when status in ('pending', 'held') then ${ERASED} else last_error end,
        finished_at = case when status in ('pending', 'held') then now() else finished_at end,
        lease_until = null
      where subject = any(${ids}::text[]) and (payload is not null or status in ('pending', 'held'))`.execute(db),
  );
}

/** The record of an erasure: what was removed, and nothing that names the caller. */
export async function recordErasure(
  db: Db,
  e: {
    scope: 'caller' | 'call';
    localOnly: boolean;
    removed: Record<string, number>;
    retellDeleted: number;
    retellFailed: number;
  },
): Promise<string> {
  const row = await db
    .insertInto('erasures')
    .values({
      scope: e.scope,
      local_only: e.localOnly,
      removed: JSON.stringify(e.removed),
      retell_deleted: e.retellDeleted,
      retell_failed: e.retellFailed,
      finished_at: sql<Date>`now()`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
