import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Replays are recorded next to the original source instead of overwriting it.
  await db.schema.alterTable('webhook_events').addColumn('last_replayed_at', 'timestamptz').execute();

  // caller_anonymous was true for web calls too (no number at all). Both flags now mean one thing: the
  // caller ID was suppressed (from_number "anonymous"). caller_anonymous keeps the name the seed's
  // queries use. The expression only looks at "anonymous", which PII retention keeps, so the flags
  // survive it.
  await db.schema.alterTable('retell_call_sessions').dropColumn('caller_anonymous').execute();
  for (const column of ['caller_withheld', 'caller_anonymous']) {
    await db.schema
      .alterTable('retell_call_sessions')
      .addColumn(column, 'boolean', (c) =>
        c
          .notNull()
          .generatedAlwaysAs(sql`coalesce(lower(from_number) = 'anonymous', false)`)
          .stored(),
      )
      .execute();
  }
  await db.schema
    .alterTable('retell_call_sessions')
    // Salted hash of the customer's number (from_number inbound, to_number outbound), set when
    // SESSION_PII_RETENTION_DAYS removes the numbers, so returning callers can still be counted.
    .addColumn('caller_hash', 'text')
    .addColumn('pii_pruned_at', 'timestamptz')
    .execute();
  // Ended sessions whose caller data is still there, walked in the order they ended.
  await db.schema
    .createIndex('retell_call_sessions_pii_retention_idx')
    .on('retell_call_sessions')
    .expression(sql`coalesce(ended_at, updated_at), id`)
    .where(sql<boolean>`pii_pruned_at is null and call_status <> 'in_progress'`)
    .execute();

  // One salt per installation, kept with the data it protects (a salt in the environment could be
  // lost or changed, and the hashes would stop matching). gen_random_uuid() is cryptographically random.
  await db.schema
    .createTable('callsync_settings')
    .addColumn('id', 'boolean', (c) =>
      c
        .primaryKey()
        .defaultTo(true)
        .check(sql`id`),
    )
    .addColumn('caller_hash_salt', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into callsync_settings (caller_hash_salt) values (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`.execute(
    db,
  );
  // callsync_caller_hash('+4930...') gives the hash a pruned session keeps, so a query can match a
  // number against both pruned and current sessions. 'anonymous' and null have no hash.
  await sql`
    create function callsync_caller_hash(number text) returns text language sql stable as $$
      select case when number is null or lower(number) = 'anonymous' then null
        else encode(sha256(convert_to(s.caller_hash_salt || ':' || number, 'UTF8')), 'hex') end
      from callsync_settings s
    $$`.execute(db);

  // What each retention run removed (`make stats` shows it).
  await db.schema
    .createTable('retention_runs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('payload_days', 'numeric', (c) => c.notNull())
    .addColumn('event_row_days', 'numeric', (c) => c.notNull())
    .addColumn('session_pii_days', 'numeric', (c) => c.notNull())
    .addColumn('payloads_pruned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('event_rows_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sessions_pii_pruned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconcile_runs_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('retention_runs_started_at_idx').on('retention_runs').column('started_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retention_runs').execute();
  await sql`drop function callsync_caller_hash(text)`.execute(db);
  await db.schema.dropTable('callsync_settings').execute();
  await db.schema.dropIndex('retell_call_sessions_pii_retention_idx').execute();
  await db.schema
    .alterTable('retell_call_sessions')
    .dropColumn('pii_pruned_at')
    .dropColumn('caller_hash')
    .dropColumn('caller_anonymous')
    .dropColumn('caller_withheld')
    .execute();
  await db.schema
    .alterTable('retell_call_sessions')
    .addColumn('caller_anonymous', 'boolean', (c) =>
      c
        .notNull()
        .generatedAlwaysAs(sql`from_number is null or lower(from_number) = 'anonymous'`)
        .stored(),
    )
    .execute();
  await db.schema.alterTable('webhook_events').dropColumn('last_replayed_at').execute();
}
