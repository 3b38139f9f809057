import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('webhook_events')
    // How often `make replay` re-ran this event.
    .addColumn('replay_count', 'integer', (c) => c.notNull().defaultTo(0))
    // When retention stripped payload and raw body (the row itself stays, for reports and dedupe).
    .addColumn('pruned_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('webhook_events_retention_idx')
    .on('webhook_events')
    .columns(['processed_at', 'id'])
    .where(sql<boolean>`status in ('processed', 'skipped') and pruned_at is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_events_retention_idx').execute();
  await db.schema.alterTable('webhook_events').dropColumn('pruned_at').dropColumn('replay_count').execute();
}
