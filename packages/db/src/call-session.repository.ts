import { sql, type Updateable } from 'kysely';
import type { Db } from './database';
import type { CallSession, CallSessionTable } from './call-session.table';

export type CallSessionValues = Omit<
  Updateable<CallSessionTable>,
  | 'id'
  | 'call_id'
  | 'created_at'
  | 'updated_at'
  | 'caller_anonymous'
  | 'caller_withheld'
  | 'caller_hash'
  | 'pii_pruned_at'
>;

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

/** Write many sessions back in one statement. */
export async function updateCallSessions(
  db: Db,
  updates: readonly { callId: string; values: CallSessionValues }[],
): Promise<void> {
  if (updates.length === 0) return;
  const col = <K extends keyof CallSessionValues>(k: K) => updates.map((u) => u.values[k] ?? null);
  await sql`
    update retell_call_sessions s set
      agent_id = v.agent_id, agent_version = v.agent_version, company_id = v.company_id, call_type = v.call_type,
      direction = v.direction, from_number = v.from_number, to_number = v.to_number, call_status = v.call_status,
      started_at = v.started_at, ended_at = v.ended_at, duration_ms = v.duration_ms, disconnection_reason = v.disconnection_reason,
      analysis = v.analysis::jsonb, analyzed_at = v.analyzed_at, transcript = v.transcript, recording_url = v.recording_url,
      cost_cents = v.cost_cents, call_cost = v.call_cost::jsonb, metadata = v.metadata::jsonb,
      lifecycle_rank = v.lifecycle_rank, last_event_at = v.last_event_at, updated_at = now(),
      -- A late event (a re-run analysis) can bring caller data back after retention removed it; then
      -- the session is due for retention again.
      pii_pruned_at = case when v.from_number is distinct from s.from_number or v.to_number is distinct from s.to_number
        or v.transcript is distinct from s.transcript or v.recording_url is distinct from s.recording_url
        then null else s.pii_pruned_at end
    from unnest(
      ${updates.map((u) => u.callId)}::text[], ${col('agent_id')}::text[], ${col('agent_version')}::int[], ${col('company_id')}::bigint[],
      ${col('call_type')}::text[], ${col('direction')}::text[], ${col('from_number')}::text[], ${col('to_number')}::text[],
      ${col('call_status')}::text[], ${col('started_at')}::timestamptz[], ${col('ended_at')}::timestamptz[], ${col('duration_ms')}::bigint[],
      ${col('disconnection_reason')}::text[], ${col('analysis')}::text[], ${col('analyzed_at')}::timestamptz[], ${col('transcript')}::text[],
      ${col('recording_url')}::text[], ${col('cost_cents')}::numeric[], ${col('call_cost')}::text[], ${col('metadata')}::text[],
      ${col('lifecycle_rank')}::smallint[], ${col('last_event_at')}::timestamptz[]
    ) as v(call_id, agent_id, agent_version, company_id, call_type, direction, from_number, to_number, call_status,
           started_at, ended_at, duration_ms, disconnection_reason, analysis, analyzed_at, transcript, recording_url,
           cost_cents, call_cost, metadata, lifecycle_rank, last_event_at)
    where s.call_id = v.call_id`.execute(db);
}
