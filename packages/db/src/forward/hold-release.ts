import { sql } from 'kysely';
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
  return inBatches(db, size, async (trx) => {
    const r = await sql`
      update forward_deliveries f set status = 'held', lease_until = null
      where f.id in (
        select p.id from forward_deliveries p join forward_destinations d on d.id = p.destination_id
        where p.destination_id = ${destinationId} and p.status = 'pending' and d.state = 'paused'
          and p.id is distinct from d.probe_delivery_id and (p.lease_until is null or p.lease_until <= now())
        order by p.id limit ${size}
        for update of p skip locked)`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}

/** Make an active destination's held deliveries pending, due now. */
export async function releaseHeldDeliveries(db: Db, destinationId: string, size = FORWARD_BATCH): Promise<number> {
  return inBatches(db, size, async (trx) => {
    const r = await sql`
      update forward_deliveries f set status = 'pending', next_attempt_at = now()
      where f.id in (
        select p.id from forward_deliveries p join forward_destinations d on d.id = p.destination_id
        where p.destination_id = ${destinationId} and p.status = 'held' and d.state = 'active'
        order by p.id limit ${size}
        for update of p skip locked)`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}

/** Cancel a removed destination's unsent deliveries; the rows stay for the record. */
export async function cancelUnsentDeliveries(db: Db, destinationId: string, size = FORWARD_BATCH): Promise<number> {
  return inBatches(db, size, async (trx) => {
    const r = await sql`
      update forward_deliveries f set status = 'cancelled', lease_until = null, finished_at = now()
      where f.id in (
        select p.id from forward_deliveries p join forward_destinations d on d.id = p.destination_id
        where p.destination_id = ${destinationId} and p.status in ('pending', 'held') and d.state = 'removed'
        order by p.id limit ${size}
        for update of p skip locked)`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}
