import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * A chat that ended without its chat_analyzed (the webhook lost) gets its analysis fetched from
 * get-chat, as a call does: checks without analysis are counted on the chat, and a partial index
 * serves the pass's keyset walk over ended chats still without analysis.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table retell_chat_sessions add column reconcile_analysis_checks integer not null default 0`.execute(
    db,
  );
  await sql`create index retell_chat_sessions_awaiting_analysis_idx on retell_chat_sessions
    ((coalesce(ended_at, created_at)), id)
    where analysis is null and chat_status <> 'ongoing' and reconcile_stopped_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists retell_chat_sessions_awaiting_analysis_idx`.execute(db);
  await sql`alter table retell_chat_sessions drop column if exists reconcile_analysis_checks`.execute(db);
}
