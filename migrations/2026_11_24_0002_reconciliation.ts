import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('retell_call_sessions')
    // Times Retell was asked for a finished call's analysis and had none yet.
    .addColumn('reconcile_analysis_checks', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // Stale in_progress sessions still being polled, walked in (started_at, id) order.
  await db.schema
    .createIndex('retell_call_sessions_reconcile_stale_idx')
    .on('retell_call_sessions')
    .columns(['started_at', 'id'])
    .where(sql<boolean>`call_status = 'in_progress' and reconcile_stopped_at is null`)
    .execute();

  // Finished sessions still waiting for their analysis, walked in (ended, id) order.
  await db.schema
    .createIndex('retell_call_sessions_reconcile_analysis_idx')
    .on('retell_call_sessions')
    .expression(sql`coalesce(ended_at, created_at), id`)
    .where(sql<boolean>`analysis is null and call_status <> 'in_progress' and reconcile_stopped_at is null`)
    .execute();

  // One row per reconciliation pass: when it ran, who ran it, what it found.
  await db.schema
    .createTable('reconcile_runs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('runner', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('found', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ended', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ongoing', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('not_found', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('analyzed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addCheckConstraint('reconcile_runs_trigger_check', sql`trigger in ('scheduled', 'manual')`)
    .execute();
  await db.schema.createIndex('reconcile_runs_started_at_idx').on('reconcile_runs').column('started_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reconcile_runs').execute();
  await db.schema.dropIndex('retell_call_sessions_reconcile_analysis_idx').execute();
  await db.schema.dropIndex('retell_call_sessions_reconcile_stale_idx').execute();
  await db.schema.alterTable('retell_call_sessions').dropColumn('reconcile_analysis_checks').execute();
}
