import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * webhook_events.event_id holds the call id. It becomes call_id in three steps, so old and new
 * processes can run side by side during a rolling deploy:
 *   1. expand (this migration): add call_id; a trigger keeps the two columns equal whichever one a
 *      process writes. Rows stored before it get call_id from a batched backfill that `migrate` runs
 *      after the migrations, which also builds the index on call_id without locking writes.
 *   2. migrate (the code of this release): every process reads and writes call_id.
 *   3. contract (a later migration, once no process of an earlier release runs): call_id NOT NULL,
 *      and event_id kept only as a name for older SQL, or dropped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_events').addColumn('call_id', 'text').execute();
  await sql`
    create function webhook_events_call_id_sync() returns trigger language plpgsql as $$
    begin
      if new.call_id is null then
        new.call_id := new.event_id;
      elsif new.event_id is null or new.event_id is distinct from new.call_id then
        new.event_id := new.call_id;
      end if;
      return new;
    end
    $$`.execute(db);
  await sql`
    create trigger webhook_events_call_id_sync before insert or update of event_id, call_id on webhook_events
    for each row execute function webhook_events_call_id_sync()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger webhook_events_call_id_sync on webhook_events`.execute(db);
  await sql`drop function webhook_events_call_id_sync()`.execute(db);
  await sql`drop index if exists webhook_events_call_id_idx`.execute(db);
  await db.schema.alterTable('webhook_events').dropColumn('call_id').execute();
}
