import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Erasure of one caller or call on request (make forget; GDPR Art. 17):
 * - erased_at on sessions and chats: their personal data is gone, and a late delivery for them is
 *   stored but not applied (skipped, its payload removed at once), so the data cannot come back;
 * - erasures: one row per request, with what was removed, and no number.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('retell_call_sessions').addColumn('erased_at', 'timestamptz').execute();
  await db.schema.alterTable('retell_chat_sessions').addColumn('erased_at', 'timestamptz').execute();
  await db.schema
    .createTable('erasures')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('caller', 'call')`))
    .addColumn('local_only', 'boolean', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    // Rows changed per table, e.g. {"retell_call_sessions": 2, "webhook_events": 7}.
    .addColumn('removed', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('retell_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retell_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('erasures').execute();
  await db.schema.alterTable('retell_chat_sessions').dropColumn('erased_at').execute();
  await db.schema.alterTable('retell_call_sessions').dropColumn('erased_at').execute();
}
