import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Retention covers every place caller data lives (issue 26): function calls' args and results and
 * transfer events' destinations get a pruned_at (and a partial index over the rows still holding
 * data, oldest first); each retention run records the new steps' counts and the failed-events period.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('function_calls').addColumn('pruned_at', 'timestamptz').execute();
  await sql`create index function_calls_unpruned_idx on function_calls (created_at, id) where pruned_at is null`.execute(
    db,
  );
  await db.schema.alterTable('retell_call_transfer_events').addColumn('pruned_at', 'timestamptz').execute();
  await sql`create index retell_call_transfer_events_unpruned_idx on retell_call_transfer_events (received_at, id)
    where pruned_at is null`.execute(db);
  await db.schema
    .alterTable('retention_runs')
    .addColumn('failed_payload_days', 'numeric')
    .addColumn('failed_payloads_pruned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('function_calls_pruned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transfer_events_pruned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deliveries_expired', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('retention_runs')
    .dropColumn('deliveries_expired')
    .dropColumn('transfer_events_pruned')
    .dropColumn('function_calls_pruned')
    .dropColumn('failed_payloads_pruned')
    .dropColumn('failed_payload_days')
    .execute();
  await sql`drop index if exists retell_call_transfer_events_unpruned_idx`.execute(db);
  await db.schema.alterTable('retell_call_transfer_events').dropColumn('pruned_at').execute();
  await sql`drop index if exists function_calls_unpruned_idx`.execute(db);
  await db.schema.alterTable('function_calls').dropColumn('pruned_at').execute();
}
