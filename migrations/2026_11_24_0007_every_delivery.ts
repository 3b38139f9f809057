import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Every signed delivery is kept and applied (issue 11):
 * - webhook_events rows can belong to a chat (chat_id) or to nothing callsync knows (no subject);
 * - transcript_updated keeps the longest snapshot (snapshot_size);
 * - retell_call_sessions gains the fields people query, copied out of payloads so they survive
 *   retention, plus the live transcript's state and the call's transfers;
 * - retell_call_transfer_events: one row per transfer event applied;
 * - retell_chat_sessions: one row per chat, with the guarantees of a call session.
 *
 * Only quick catalog changes here. Filling the new session fields on rows stored before this
 * migration, and the indexes on big tables, are built by `migrate` afterwards in batches and
 * concurrently (packages/db/src/data-migrations.ts), so neither blocks writes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('webhook_events')
    .addColumn('chat_id', 'text')
    // The length of the transcript a transcript_updated row holds: a snapshot only replaces a shorter one.
    .addColumn('snapshot_size', 'integer')
    .execute();
  // A delivery with an unknown event and neither a call nor a chat has no subject at all.
  await sql`alter table webhook_events alter column event_id drop not null`.execute(db);
  // event_id (the seed's name) names the subject: the call id, or for a chat row the chat id.
  await sql`
    create or replace function webhook_events_call_id_sync() returns trigger language plpgsql as $$
    begin
      if new.chat_id is not null then
        new.call_id := null;
        new.event_id := new.chat_id;
      elsif new.call_id is null then
        new.call_id := new.event_id;
      elsif new.event_id is distinct from new.call_id then
        new.event_id := new.call_id;
      end if;
      return new;
    end
    $$`.execute(db);
  await sql`drop trigger webhook_events_call_id_sync on webhook_events`.execute(db);
  await sql`
    create trigger webhook_events_call_id_sync before insert or update of event_id, call_id, chat_id on webhook_events
    for each row execute function webhook_events_call_id_sync()`.execute(db);

  await db.schema
    .alterTable('retell_call_sessions')
    .addColumn('call_successful', 'boolean')
    .addColumn('user_sentiment', 'text')
    .addColumn('in_voicemail', 'boolean')
    .addColumn('call_summary', 'text')
    .addColumn('custom_analysis_data', 'jsonb')
    // e.g. {"twilio_call_sid": "CA..."}
    .addColumn('telephony_identifier', 'jsonb')
    .addColumn('retell_llm_dynamic_variables', 'jsonb')
    .addColumn('collected_dynamic_variables', 'jsonb')
    .addColumn('latency', 'jsonb')
    .addColumn('llm_token_usage', 'jsonb')
    // The transcript came from call_ended/call_analyzed; live snapshots no longer replace it.
    .addColumn('transcript_final', 'boolean', (c) => c.notNull().defaultTo(false))
    // Each transfer in order: destination, option, outcome and times (see retell_call_transfer_events).
    .addColumn('transfers', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // Which version of the copied fields the row has; null: stored before them, awaiting the backfill.
    .addColumn('fields_version', 'smallint')
    .execute();
  // Rows created from now on are written with the fields (the default applies to new rows only).
  await sql`alter table retell_call_sessions alter column fields_version set default 1`.execute(db);

  await db.schema
    .createTable('retell_call_transfer_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('call_id', 'text', (c) => c.notNull())
    // The webhook_events row applied: applying it again adds nothing. No foreign key: retention
    // deletes old event rows, the transfer history stays.
    .addColumn('webhook_event_id', 'bigint', (c) => c.notNull().unique())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('destination', 'text')
    .addColumn('transfer_option', 'jsonb')
    // Where in the conversation it happened: transcript turns and characters so far.
    .addColumn('turn_count', 'integer', (c) => c.notNull())
    .addColumn('transcript_chars', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('retell_call_transfer_events_call_id_idx')
    .on('retell_call_transfer_events')
    .column('call_id')
    .execute();

  await db.schema
    .createTable('retell_chat_sessions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('chat_id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text')
    .addColumn('agent_version', 'integer')
    .addColumn('company_id', 'bigint')
    .addColumn('chat_type', 'text')
    .addColumn('chat_status', 'text', (c) => c.notNull().defaultTo('ongoing'))
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('transcript', 'text')
    .addColumn('analysis', 'jsonb')
    .addColumn('analyzed_at', 'timestamptz')
    .addColumn('chat_successful', 'boolean')
    .addColumn('user_sentiment', 'text')
    .addColumn('chat_summary', 'text')
    .addColumn('custom_analysis_data', 'jsonb')
    .addColumn('cost_cents', 'numeric')
    .addColumn('chat_cost', 'jsonb')
    .addColumn('metadata', 'jsonb')
    .addColumn('retell_llm_dynamic_variables', 'jsonb')
    .addColumn('collected_dynamic_variables', 'jsonb')
    // 1 chat_started, 2 chat_ended, 3 chat_analyzed.
    .addColumn('lifecycle_rank', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_event_at', 'timestamptz')
    .addColumn('reconcile_checked_at', 'timestamptz')
    .addColumn('reconcile_not_found_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconcile_failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconcile_stopped_at', 'timestamptz')
    .addColumn('pii_pruned_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('retell_chat_sessions_chat_status_check', sql`chat_status in ('ongoing', 'ended', 'error')`)
    .execute();
  // Reconciliation walks ongoing chats by start.
  await db.schema
    .createIndex('retell_chat_sessions_ongoing_idx')
    .on('retell_chat_sessions')
    .columns(['started_at', 'id'])
    .where(sql.ref('chat_status'), '=', 'ongoing')
    .execute();
  await db.schema
    .createIndex('retell_chat_sessions_custom_analysis_idx')
    .on('retell_chat_sessions')
    .using('gin')
    .column('custom_analysis_data')
    .execute();
  await db.schema.createIndex('retell_chat_sessions_agent_idx').on('retell_chat_sessions').column('agent_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retell_chat_sessions').execute();
  await db.schema.dropTable('retell_call_transfer_events').execute();
  await sql`drop index if exists retell_call_sessions_custom_analysis_idx`.execute(db);
  await sql`drop index if exists retell_call_sessions_twilio_call_sid_idx`.execute(db);
  await sql`drop index if exists webhook_events_chat_id_idx`.execute(db);
  await db.schema
    .alterTable('retell_call_sessions')
    .dropColumn('call_successful')
    .dropColumn('user_sentiment')
    .dropColumn('in_voicemail')
    .dropColumn('call_summary')
    .dropColumn('custom_analysis_data')
    .dropColumn('telephony_identifier')
    .dropColumn('retell_llm_dynamic_variables')
    .dropColumn('collected_dynamic_variables')
    .dropColumn('latency')
    .dropColumn('llm_token_usage')
    .dropColumn('transcript_final')
    .dropColumn('transfers')
    .dropColumn('fields_version')
    .execute();
  await sql`drop trigger webhook_events_call_id_sync on webhook_events`.execute(db);
  await sql`
    create or replace function webhook_events_call_id_sync() returns trigger language plpgsql as $$
    begin
      if new.call_id is null then
        new.call_id := new.event_id;
      elsif new.event_id is null or new.event_id is distinct from new.call_id then
        new.event_id := new.call_id;
      end if;
      return new;
    end
    $$`.execute(db);
  await sql`
    create trigger webhook_events_call_id_sync before insert or update of event_id, call_id on webhook_events
    for each row execute function webhook_events_call_id_sync()`.execute(db);
  await sql`delete from webhook_events where event_id is null or chat_id is not null`.execute(db);
  await sql`alter table webhook_events alter column event_id set not null`.execute(db);
  await db.schema.alterTable('webhook_events').dropColumn('snapshot_size').dropColumn('chat_id').execute();
}
