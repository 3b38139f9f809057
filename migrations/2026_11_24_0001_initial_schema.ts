import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('retell_agents')
    .addColumn('agent_id', 'text', (c) => c.primaryKey())
    .addColumn('company_id', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo('retell'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The call_id: the seed's reports and scripts look events up by it.
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    // Exactly as received, so a signature can be re-checked and a payload re-parsed later.
    .addColumn('raw_body', 'bytea')
    .addColumn('signature', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('delivery_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('error', 'text')
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('webhook'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_delivered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .addUniqueConstraint('webhook_events_dedupe_key_unique', ['provider', 'dedupe_key'])
    .addCheckConstraint('webhook_events_status_check', sql`status in ('pending', 'processed', 'failed', 'skipped')`)
    .addCheckConstraint('webhook_events_source_check', sql`source in ('webhook', 'reconcile', 'replay')`)
    .addCheckConstraint('webhook_events_counts_check', sql`attempts >= 0 and delivery_count >= 1`)
    .execute();

  // The processing-rate report: provider + time window, grouped by event_type.
  await db.schema.createIndex('webhook_events_provider_created_at_idx').on('webhook_events').columns(['provider', 'created_at', 'event_type']).execute();
  // Events of one call (support lookups, the seed's "webhooks of this call" script).
  await db.schema.createIndex('webhook_events_event_id_idx').on('webhook_events').column('event_id').execute();
  // The outbox sweeper and "pending > 5 min" alerts only ever scan pending rows.
  await db.schema.createIndex('webhook_events_pending_idx').on('webhook_events').column('created_at').where(sql.ref('status'), '=', 'pending').execute();
  // Replay of failed events by time window.
  await db.schema.createIndex('webhook_events_failed_idx').on('webhook_events').column('created_at').where(sql.ref('status'), '=', 'failed').execute();

  await db.schema
    .createTable('retell_call_sessions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('call_id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text')
    .addColumn('agent_version', 'integer')
    .addColumn('company_id', 'bigint')
    .addColumn('call_type', 'text')
    .addColumn('direction', 'text')
    .addColumn('from_number', 'text')
    .addColumn('to_number', 'text')
    // Suppressed caller ID ("anonymous") or no number at all (web calls): a valid caller, flagged.
    .addColumn('caller_anonymous', 'boolean', (c) =>
      c.notNull().generatedAlwaysAs(sql`from_number is null or lower(from_number) = 'anonymous'`).stored(),
    )
    .addColumn('call_status', 'text', (c) => c.notNull().defaultTo('in_progress'))
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('duration_ms', 'bigint')
    .addColumn('disconnection_reason', 'text')
    .addColumn('analysis', 'jsonb')
    .addColumn('analyzed_at', 'timestamptz')
    .addColumn('transcript', 'text')
    .addColumn('recording_url', 'text')
    .addColumn('cost_cents', 'numeric')
    .addColumn('call_cost', 'jsonb')
    .addColumn('metadata', 'jsonb')
    // 1 call_started, 2 call_ended, 3 call_analyzed: the furthest lifecycle event applied so far.
    .addColumn('lifecycle_rank', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_event_at', 'timestamptz')
    // Reconciliation bookkeeping.
    .addColumn('reconcile_checked_at', 'timestamptz')
    .addColumn('reconcile_not_found_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconcile_failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconcile_stopped_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'retell_call_sessions_call_status_check',
      sql`call_status in ('in_progress', 'ended', 'error', 'not_connected')`,
    )
    .execute();

  // Stale sessions (seed report 2 and the reconciliation pass): only in_progress rows, by start.
  await db.schema
    .createIndex('retell_call_sessions_in_progress_idx')
    .on('retell_call_sessions')
    .column('started_at')
    .where(sql.ref('call_status'), '=', 'in_progress')
    .execute();
  await db.schema.createIndex('retell_call_sessions_company_started_idx').on('retell_call_sessions').columns(['company_id', 'started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retell_call_sessions').execute();
  await db.schema.dropTable('webhook_events').execute();
  await db.schema.dropTable('retell_agents').execute();
}
