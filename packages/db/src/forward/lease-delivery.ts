import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database';
import type { ForwardDelivery } from '../forward.table';
import { fromNow } from './from-now';

/*
 * A sender holds a delivery by a lease, not a lock: the HTTP request runs outside any transaction,
 * and a sender that dies simply lets its lease run out, after which another may claim the delivery.
 * Taking a lease counts the attempt up front, so a crash mid-send still counts against the schedule;
 * giving it back (releaseDelivery) takes that count back.
 */

export interface ClaimedDelivery extends ForwardDelivery {
  /** What to send: the session-mode payload, or the event's body as Retell sent it. */
  body: string | null;
}

/** What a claimed delivery sends: its session-mode body, else the event's body as received. */
const claimedBody = sql`case when f.payload is not null then f.payload::text else (
  select coalesce(convert_from(e.raw_body, 'UTF8'), e.payload::text) from webhook_events e
  where e.id = f.webhook_event_id) end`;

/**
 * Lease the delivery `id` for `leaseMs` and count the attempt (and, unless counted already, the
 * claim), if `chosen` (the rest of a select over `forward_deliveries f`) picks it; with what it is to send.
 */
export async function leaseDelivery(
  db: Db,
  id: string,
  leaseMs: number,
  chosen: RawBuilder<unknown>,
  countClaim = true,
): Promise<ClaimedDelivery | undefined> {
  const { rows } = await sql<ClaimedDelivery>`
    with c as (select f.id from forward_deliveries f ${chosen})
    update forward_deliveries f set attempts = f.attempts + 1, claims = f.claims + ${countClaim ? 1 : 0},
      lease_until = ${fromNow(leaseMs)}
    from c where f.id = c.id and f.id = ${id}
    returning f.*, ${claimedBody} as body`.execute(db);
  return rows[0];
}

/** Give a claimed delivery back without an attempt (its signing secret could not be read). */
export async function releaseDelivery(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('forward_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '-', 1), lease_until: null, next_attempt_at: at }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}
