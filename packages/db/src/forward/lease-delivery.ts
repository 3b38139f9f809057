import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database';
import type { ForwardDelivery, ForwardDestination } from '../forward.table';
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

/** Every column of a destination: the claim returns the row it sends to with the delivery. */
const DESTINATION_COLUMNS = [
  'id',
  'url',
  'events',
  'company_id',
  'payload_mode',
  'secret',
  'previous_secret',
  'previous_secret_expires_at',
  'state',
  'paused_reason',
  'rate_limit_per_second',
  'breaker_threshold',
  'consecutive_failures',
  'allow_link_local',
  'allow_private',
  'description',
  'max_in_flight',
  'fail_4xx',
  'paused_by',
  'breaker_opens',
  'probe_at',
  'probe_delivery_id',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ForwardDestination)[];

/** A compile error here names a destination column missing from DESTINATION_COLUMNS. */
const everyColumn: Exclude<keyof ForwardDestination, (typeof DESTINATION_COLUMNS)[number]> extends never
  ? true
  : never = true;
void everyColumn;

/** The destination's columns in the claim's RETURNING, prefixed so they part from the delivery's. */
const destinationColumns = sql.join(DESTINATION_COLUMNS.map((c) => sql`d.${sql.ref(c)} as ${sql.ref(`d__${c}`)}`));

/**
 * Lease the delivery `id` for `leaseMs` and count the attempt (and, unless counted already, the
 * claim), if `chosen` (the rest of a select over `forward_deliveries f`, leaving the destination
 * out) picks it; with what it is to send and the destination's row, in one statement: the sender's
 * usual claim is one round trip (a sender on a busy machine pays for each).
 */
export async function leaseDelivery(
  db: Db,
  id: string,
  leaseMs: number,
  chosen: RawBuilder<unknown>,
  countClaim = true,
): Promise<{ delivery: ClaimedDelivery; destination: ForwardDestination } | undefined> {
  const { rows } = await sql<Record<string, unknown>>`
    with c as (select f.id from forward_deliveries f ${chosen})
    update forward_deliveries f set attempts = f.attempts + 1, claims = f.claims + ${countClaim ? 1 : 0},
      lease_until = ${fromNow(leaseMs)}
    from c, forward_destinations d where f.id = c.id and f.id = ${id} and d.id = f.destination_id
    returning f.*, ${claimedBody} as body, ${destinationColumns}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const delivery: Record<string, unknown> = {};
  const destination: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith('d__')) destination[key.slice(3)] = value;
    else delivery[key] = value;
  }
  return {
    delivery: delivery as unknown as ClaimedDelivery,
    destination: destination as unknown as ForwardDestination,
  };
}

/**
 * Keep a sender's lease alive for another `leaseMs` while it works on the delivery. `attempt` (the
 * count its claim set) says the lease is still this sender's: false once the attempt was recorded,
 * the delivery given back, or another sender claimed it after this lease lapsed.
 */
export async function extendLease(db: Db, id: string, attempt: number, leaseMs: number): Promise<boolean> {
  const r = await db
    .updateTable('forward_deliveries')
    .set({ lease_until: fromNow(leaseMs) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempt)
    .where('lease_until', 'is not', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Give a claimed delivery back without an attempt (its signing secret could not be read, or its
 * destination had no free slot), if it is still this claim's (`attempt`, the count the claim set).
 */
export async function releaseDelivery(db: Db, id: string, attempt: number, at: Date): Promise<void> {
  await db
    .updateTable('forward_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '-', 1), lease_until: null, next_attempt_at: at }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempt)
    .execute();
}
