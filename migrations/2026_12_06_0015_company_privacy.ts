import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Caller data stays with its company (issue 26, first part):
 * - companies.caller_memory: what an agent may hear of a caller's earlier calls with the company
 *   (`summary`: count, last time and last summary; `count`: no summary; `off`: nothing);
 * - api_tokens: context API tokens, stored as SHA-256 of the token, each for one company (or, with
 *   company_id null, an operator token for every company).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table companies add column caller_memory text not null default 'summary'
    constraint companies_caller_memory_check check (caller_memory in ('summary', 'count', 'off'))`.execute(db);
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // A token is 32 random bytes: a plain hash is enough to make a dump useless (no guessing).
    .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
    .addColumn('company_id', 'bigint', (c) => c.references('companies.id').onDelete('cascade'))
    .addColumn('description', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
  await sql`alter table companies drop column caller_memory`.execute(db);
}
