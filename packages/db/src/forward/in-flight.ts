import { sql } from 'kysely';
import type { Db } from '../database';

/** A delivery a sender holds right now: claimed, its attempt not yet recorded. */
export interface LeasedDelivery {
  id: string;
  lease_until: Date;
}

/**
 * The destination's deliveries under lease: what is in flight to it as far as Postgres knows. The
 * forward gate reads this only when Redis has lost (or never had) its count of the destination's
 * sends in flight, so that a Redis restart does not let more than the limit through at once.
 */
export async function findLeasedDeliveries(db: Db, destinationId: string): Promise<LeasedDelivery[]> {
  return db
    .selectFrom('forward_deliveries')
    .select(['id', 'lease_until'])
    .where('destination_id', '=', destinationId)
    .where('status', '=', 'pending')
    .where('lease_until', '>', sql<Date>`now()`)
    .$narrowType<{ lease_until: Date }>()
    .execute();
}
