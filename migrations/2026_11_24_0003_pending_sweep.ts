import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

export async function up(db: Kysely<any>): Promise<void> {
  // The outbox sweeper walks pending rows by id; pending rows are few, so this index stays tiny.
  await db.schema.createIndex('webhook_events_pending_id_idx').on('webhook_events').column('id').where(sql.ref('status'), '=', 'pending').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_events_pending_id_idx').execute();
}
