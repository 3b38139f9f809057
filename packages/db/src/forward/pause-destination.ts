import { sql } from 'kysely';
import type { Db } from '../database';
import { holdPendingDeliveries } from './hold-release';
import { setDestinationState } from './set-destination-state';

/*
 * An operator's pause. It is not the breaker's: the breaker never closes it, only resume ends it,
 * and it drops any probe the breaker had armed. Deliveries written meanwhile are held by
 * queueForwards; the pending ones are held here, in batches.
 */

/**
 * Pause by hand: new deliveries are held, and so are the pending ones (in batches). The pause stays
 * until resume: the breaker never closes it. Returns how many deliveries were held.
 */
export async function pauseDestination(db: Db, id: string, reason: string): Promise<number> {
  await setDestinationState(
    db,
    id,
    sql`state = 'paused', paused_by = 'operator', paused_reason = ${reason}, probe_at = null, probe_delivery_id = null`,
    sql`state <> 'removed'`,
  );
  return holdPendingDeliveries(db, id);
}
