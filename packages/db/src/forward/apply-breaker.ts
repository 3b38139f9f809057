import { sql } from 'kysely';
import type { Db } from '../database';
import type { BreakerRecord } from './breaker-record';
import { fromNow } from './from-now';

/*
 * Writing the breaker's record on the destination row, as breakerRecord computed it: one update
 * whatever the verdict, so the statement holds no decision of its own. The row is locked by
 * recordAttempt before the verdict is asked for, so nothing changes it in between.
 */

/** Write `record` on the destination `destinationId` (locked by the caller). */
export async function applyBreakerRecord(db: Db, destinationId: string, record: BreakerRecord): Promise<void> {
  const s = record.state;
  await db
    .updateTable('forward_destinations')
    .set({
      consecutive_failures: record.consecutive_failures,
      ...(s
        ? {
            state: s.state,
            paused_by: s.paused_by,
            paused_reason: s.paused_reason,
            breaker_opens: s.breaker_opens,
            probe_at: s.probe_in_ms === null ? null : fromNow(s.probe_in_ms),
            probe_delivery_id: s.probe_delivery_id,
            updated_at: sql<Date>`now()`,
          }
        : {}),
    })
    .where('id', '=', destinationId)
    .execute();
}
