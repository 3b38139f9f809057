import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Functions within the turn budget (issue 33):
 *   - `tool_call_id`: Retell's id of the invocation (the live call's last tool_call_invocation), so
 *     its retries share one record while a new invocation with the same args runs again;
 *   - `pending_answered_at`: the handler outran its budget and the agent was given the function's
 *     pending message; the handler finished in the background and its result waits here;
 *   - `delivered_at`: that result was handed to the agent (the function's next call, or
 *     get_pending_result);
 *   - `abandoned_at`: the handler was still running at its hard timeout; its slot was freed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('function_calls')
    .addColumn('tool_call_id', 'text')
    .addColumn('pending_answered_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('abandoned_at', 'timestamptz')
    .execute();
  // The results of a call still waiting for the agent: small, and read on the live path.
  await sql`create index function_calls_undelivered_idx on function_calls (call_id, name)
    where pending_answered_at is not null and delivered_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists function_calls_undelivered_idx`.execute(db);
  await db.schema
    .alterTable('function_calls')
    .dropColumn('tool_call_id')
    .dropColumn('pending_answered_at')
    .dropColumn('delivered_at')
    .dropColumn('abandoned_at')
    .execute();
}
