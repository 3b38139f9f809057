import { sql } from 'kysely';
import type { Db } from './database';
import type { CallSession, CallStatus } from './call-session.table';
import type { CallTransferEvent } from './call-transfer-event.table';
import { callAnalysisColumns, recordset, setList } from './session-fields';

/** What the state machine writes back to a session (jsonb columns as plain values). */
export interface CallSessionValues {
  agent_id: string | null;
  agent_version: number | null;
  company_id: string | number | null;
  call_type: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  call_status: CallStatus;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: string | number | null;
  disconnection_reason: string | null;
  analysis: unknown;
  analyzed_at: Date | null;
  transcript: string | null;
  transcript_final: boolean;
  recording_url: string | null;
  cost_cents: string | number | null;
  call_cost: unknown;
  metadata: unknown;
  telephony_identifier: unknown;
  retell_llm_dynamic_variables: unknown;
  collected_dynamic_variables: unknown;
  latency: unknown;
  llm_token_usage: unknown;
  transfers: unknown;
  lifecycle_rank: number;
  last_event_at: Date | null;
}

/** Each written column and its Postgres type, in the order of the UPDATE. */
const SESSION_COLUMNS: Record<keyof CallSessionValues, string> = {
  agent_id: 'text',
  agent_version: 'int',
  company_id: 'bigint',
  call_type: 'text',
  direction: 'text',
  from_number: 'text',
  to_number: 'text',
  call_status: 'text',
  started_at: 'timestamptz',
  ended_at: 'timestamptz',
  duration_ms: 'bigint',
  disconnection_reason: 'text',
  analysis: 'jsonb',
  analyzed_at: 'timestamptz',
  transcript: 'text',
  transcript_final: 'boolean',
  recording_url: 'text',
  cost_cents: 'numeric',
  call_cost: 'jsonb',
  metadata: 'jsonb',
  telephony_identifier: 'jsonb',
  retell_llm_dynamic_variables: 'jsonb',
  collected_dynamic_variables: 'jsonb',
  latency: 'jsonb',
  llm_token_usage: 'jsonb',
  transfers: 'jsonb',
  lifecycle_rank: 'smallint',
  last_event_at: 'timestamptz',
};

export async function findCallSession(db: Db, callId: string): Promise<CallSession | undefined> {
  return db.selectFrom('retell_call_sessions').selectAll().where('call_id', '=', callId).executeTakeFirst();
}

/**
 * Lock the sessions of many calls at once, creating the missing ones with defaults (in_progress,
 * rank 0, everything else empty: the state machine's starting point). Locks are taken in call_id
 * order, so concurrent batches cannot deadlock on each other.
 *
 * One statement: the no-op DO UPDATE locks an existing row and returns it, including one another
 * transaction committed after this statement began (an INSERT ... DO NOTHING followed by a SELECT
 * needed two round trips for the same thing).
 */
export async function lockCallSessions(db: Db, callIds: readonly string[]): Promise<CallSession[]> {
  const ids = [...new Set(callIds)].sort();
  const { rows } = await sql<CallSession>`
    insert into retell_call_sessions (call_id) select unnest(${ids}::text[]) order by 1
    on conflict (call_id) do update set call_id = excluded.call_id
    returning *`.execute(db);
  return rows.sort((a, b) => (a.call_id < b.call_id ? -1 : a.call_id > b.call_id ? 1 : 0));
}

/**
 * Write many sessions back in one statement. The analysis's queried fields (call_successful,
 * user_sentiment, in_voicemail, call_summary, custom_analysis_data) are copied out of it here, by
 * the same SQL the backfill of older rows uses.
 */
export async function updateCallSessions(
  db: Db,
  updates: readonly { callId: string; values: CallSessionValues }[],
): Promise<void> {
  if (updates.length === 0) return;
  const rows = updates.map((u) => ({ ...u.values, call_id: u.callId }));
  const assignments = Object.keys(SESSION_COLUMNS).map((c) =>
    c === 'transfers' ? sql`transfers = coalesce(v.transfers, '[]'::jsonb)` : sql`${sql.ref(c)} = ${sql.ref(`v.${c}`)}`,
  );
  await sql`
    update retell_call_sessions s set
      ${sql.join(assignments)},
      ${setList(callAnalysisColumns(sql`v.analysis`))},
      fields_version = 1, updated_at = now(),
      -- A late event (a re-run analysis) can bring caller data back after retention removed it; then
      -- the session is due for retention again.
      pii_pruned_at = case when v.from_number is distinct from s.from_number or v.to_number is distinct from s.to_number
        or v.transcript is distinct from s.transcript or v.recording_url is distinct from s.recording_url
        then null else s.pii_pruned_at end
    from ${recordset(rows, 'call_id', SESSION_COLUMNS)}
    where s.call_id = v.call_id`.execute(db);
}

/** A transfer event to record: the webhook_events row it came from makes recording it again a no-op. */
export type NewTransferEvent = Omit<CallTransferEvent, 'id' | 'created_at'>;

/** Record transfer events (once each) and return every transfer event of their calls. */
export async function recordTransferEvents(db: Db, events: readonly NewTransferEvent[]): Promise<CallTransferEvent[]> {
  if (events.length === 0) return [];
  await sql`
    insert into retell_call_transfer_events
      (call_id, webhook_event_id, event_type, destination, destination_extension, transfer_destination,
       transfer_option, turn_count, transcript_chars, received_at)
    select call_id, webhook_event_id, event_type, destination, destination_extension, transfer_destination,
      transfer_option, turn_count, transcript_chars, received_at
    from ${recordset(events, 'call_id', {
      webhook_event_id: 'bigint',
      event_type: 'text',
      destination: 'text',
      destination_extension: 'text',
      transfer_destination: 'jsonb',
      transfer_option: 'jsonb',
      turn_count: 'int',
      transcript_chars: 'int',
      received_at: 'timestamptz',
    })}
    order by webhook_event_id
    on conflict (webhook_event_id) do nothing`.execute(db);
  return db
    .selectFrom('retell_call_transfer_events')
    .selectAll()
    .where('call_id', 'in', [...new Set(events.map((e) => e.call_id))])
    .orderBy('id')
    .execute();
}
