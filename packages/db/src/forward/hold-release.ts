import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database';
import { FORWARD_BATCH, inBatches } from './bounded';

/*
 * Holding, releasing and cancelling a destination's deliveries, in batches of FORWARD_BATCH, each
 * batch one short transaction with statement and lock timeouts. A backlog of any size is worked
 * through without one long transaction, and each batch re-checks the destination's state, so a
 * resume stops a hold in progress (and the other way round). Rows locked by someone else are
 * skipped: a sender's claim holds or cancels them itself, and the sweeper releases held ones left
 * behind (releaseStrandedHeld).
 */

/**
 * Hold a paused destination's pending deliveries, in id order; not the breaker's probe, and not one a
 * sender holds a lease on (its answer is recorded first, and its next claim holds it).
 */
export async function holdPendingDeliveries(db: Db, destinationId: string, size = FORWARD_BATCH): Promise<number> {
  return updateInBatches(
    db,
    destinationId,
    size,
    sql`status = 'held', lease_until = null`,
    sql`p.status = 'pending' and d.state = 'paused'
          and p.id is distinct from d.probe_delivery_id and (p.lease_until is null or p.lease_until <= now())`,
  );
}

/** Make an active destination's held deliveries pending, due now. */
export async function releaseHeldDeliveries(db: Db, destinationId: string, size = FORWARD_BATCH): Promise<number> {
  return updateInBatches(
    db,
    destinationId,
    size,
    sql`status = 'pending', next_attempt_at = now()`,
    sql`p.status = 'held' and d.state = 'active'`,
  );
}

/** Cancel a removed destination's unsent deliveries; the rows stay for the record. */
export async function cancelUnsentDeliveries(db: Db, destinationId: string, size = FORWARD_BATCH): Promise<number> {
  return updateInBatches(
    db,
    destinationId,
    size,
    sql`status = 'cancelled', lease_until = null, finished_at = now()`,
    sql`p.status in ('pending', 'held') and d.state = 'removed'`,
  );
}

/**
 * Set `set` on a destination's deliveries that `which` picks (a condition on the delivery `p` and
 * its destination `d`), oldest first, `size` rows a batch until a batch falls short; the total.
 */
async function updateInBatches(
  db: Db,
  destinationId: string,
  size: number,
  set: RawBuilder<unknown>,
  which: RawBuilder<unknown>,
): Promise<number> {
  return inBatches(db, size, async (trx) => {
    const r = await sql`
      update forward_deliveries f set ${set}
      where f.id in (
        select p.id from forward_deliveries p join forward_destinations d on d.id = p.destination_id
        where p.destination_id = ${destinationId} and ${which}
        order by p.id limit ${size}
        for update of p skip locked)`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}
