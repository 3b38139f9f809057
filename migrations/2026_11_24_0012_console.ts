import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * The operator's console (issue 17): keyset walks over calls and events, newest first, with or
 * without a company, and the caller's number found by its last digits (numbers are masked on screen).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index retell_call_sessions_console_idx on retell_call_sessions (started_at desc, id desc)`.execute(
    db,
  );
  await sql`create index retell_call_sessions_console_company_idx on retell_call_sessions (company_id, started_at desc, id desc)`.execute(
    db,
  );
  // "Ends in 4218": reverse(number) like '8124%' is a prefix search this index answers.
  await sql`create index retell_call_sessions_caller_digits_idx on retell_call_sessions
    (reverse(case when direction = 'outbound' then to_number else from_number end) text_pattern_ops)`.execute(db);
  await sql`create index webhook_events_console_idx on webhook_events (created_at desc, id desc)`.execute(db);
  await sql`create index webhook_events_status_created_idx on webhook_events (status, created_at desc, id desc)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of [
    'webhook_events_status_created_idx',
    'webhook_events_console_idx',
    'retell_call_sessions_caller_digits_idx',
    'retell_call_sessions_console_company_idx',
    'retell_call_sessions_console_idx',
  ])
    await sql`drop index if exists ${sql.id(name)}`.execute(db);
}
