import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Discovery of calls and chats callsync never heard of (issue 12): each reconciliation pass lists
 * Retell's calls and chats that started since a watermark and creates the sessions it is missing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('discovery_watermarks')
    // 'calls' or 'chats'
    .addColumn('kind', 'text', (c) => c.primaryKey())
    // Everything that started before this (ms epoch) has been listed.
    .addColumn('listed_until_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('discovery_watermarks_kind_check', sql`kind in ('calls', 'chats')`)
    .execute();
  // Per-company metrics count the sessions of the last day by when callsync first saw them.
  await db.schema
    .createIndex('retell_call_sessions_created_at_idx')
    .on('retell_call_sessions')
    .column('created_at')
    .execute();
  await db.schema
    .createIndex('retell_chat_sessions_created_at_idx')
    .on('retell_chat_sessions')
    .column('created_at')
    .execute();
  await db.schema
    .alterTable('reconcile_runs')
    .addColumn('discovered', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reconcile_runs').dropColumn('discovered').execute();
  await db.schema.dropIndex('retell_chat_sessions_created_at_idx').execute();
  await db.schema.dropIndex('retell_call_sessions_created_at_idx').execute();
  await db.schema.dropTable('discovery_watermarks').execute();
}
