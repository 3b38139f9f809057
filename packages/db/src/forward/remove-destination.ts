import { sql } from 'kysely';
import type { Db } from '../database';
import { cancelUnsentDeliveries } from './hold-release';
import { setDestinationState } from './set-destination-state';

/*
 * Removing a destination keeps its rows: the deliveries and attempts are the record of what was
 * sent, and retention deletes them in its own time. Nothing new is written for it, and what was
 * not sent yet is cancelled, in batches.
 */

/** Remove: no new deliveries; the unfinished ones are cancelled (in batches). Returns how many. */
export async function removeDestination(db: Db, id: string): Promise<number> {
  await setDestinationState(
    db,
    id,
    sql`state = 'removed', paused_by = null, probe_at = null, probe_delivery_id = null`,
    sql`true`,
  );
  return cancelUnsentDeliveries(db, id);
}
