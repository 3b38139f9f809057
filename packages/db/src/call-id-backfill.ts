import { sql } from 'kysely';
import type { Db } from './database';

/**
 * The data half of migration 0006 (event_id becomes call_id), run by `migrate` after the schema
 * migrations, outside their transaction: fill call_id on rows stored before the column existed, in
 * short batches along the primary key, then build the index on call_id without blocking writes.
 * Idempotent and cheap once done. Returns how many rows it filled.
 */
export async function completeCallIdBackfill(db: Db, batch = 5000): Promise<number> {
  const bounds = await sql<{ min: string | null; max: string | null }>`
    select min(id) as min, max(id) as max from webhook_events where call_id is null`.execute(db);
  const { min, max } = bounds.rows[0]!;
  let filled = 0;
  if (min !== null && max !== null) {
    for (let from = BigInt(min); from <= BigInt(max); from += BigInt(batch)) {
      const r = await sql`
        update webhook_events set call_id = event_id
        where id >= ${from.toString()}::bigint and id < ${(from + BigInt(batch)).toString()}::bigint and call_id is null`.execute(
        db,
      );
      filled += Number(r.numAffectedRows ?? 0);
    }
  }
  // A build that failed half-way leaves an invalid index behind, which "if not exists" would keep.
  const invalid = await sql<{ n: string }>`
    select count(*) as n from pg_index i join pg_class c on c.oid = i.indexrelid
    where c.relname = 'webhook_events_call_id_idx' and not i.indisvalid`.execute(db);
  if (Number(invalid.rows[0]!.n) > 0) await sql`drop index concurrently webhook_events_call_id_idx`.execute(db);
  await sql`create index concurrently if not exists webhook_events_call_id_idx on webhook_events (call_id)`.execute(db);
  return filled;
}
