import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Retell's shapes as it documents them (issue 25):
 * - a transfer's destination is an object `{"number", "extension"}`: the extension and the object as
 *   sent are kept beside the number;
 * - rows applied from Retell's API (reconciliation, discovery) are not deliveries: they count 0, so
 *   delivery_count says how often Retell sent an event;
 * - the inbound webhook's answer is kept on its row, so Retell's retry of the same call_inbound gets
 *   the same decision.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('retell_call_transfer_events')
    .addColumn('destination_extension', 'text')
    .addColumn('transfer_destination', 'jsonb')
    .execute();
  // The new check first, unvalidated (no scan under the table's exclusive lock), then the old one
  // goes, then the new one is validated under a lock that lets writes through.
  await sql`alter table webhook_events add constraint webhook_events_counts_nonnegative_check
    check (attempts >= 0 and delivery_count >= 0) not valid`.execute(db);
  await sql`alter table webhook_events drop constraint webhook_events_counts_check`.execute(db);
  await sql`alter table webhook_events validate constraint webhook_events_counts_nonnegative_check`.execute(db);
  await db.schema.alterTable('webhook_events').addColumn('answer', 'jsonb').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_events').dropColumn('answer').execute();
  await sql`update webhook_events set delivery_count = 1 where delivery_count = 0`.execute(db);
  await sql`alter table webhook_events add constraint webhook_events_counts_check
    check (attempts >= 0 and delivery_count >= 1)`.execute(db);
  await sql`alter table webhook_events drop constraint webhook_events_counts_nonnegative_check`.execute(db);
  await db.schema
    .alterTable('retell_call_transfer_events')
    .dropColumn('transfer_destination')
    .dropColumn('destination_extension')
    .execute();
}
