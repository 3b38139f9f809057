import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardDelivery, ForwardDestination, ForwardStatus } from '../forward.table';
import { headsItsChain } from './chain-heads';
import { findDestination } from './find-destination';
import { fromNow } from './from-now';
import { leaseDelivery, type ClaimedDelivery } from './lease-delivery';

/*
 * The claim decides whether a delivery's job may send now. Jobs are only hints (Redis can lose them,
 * or run one twice): Postgres is the truth, so every send starts here, and a claim that says no says
 * why, so the job knows whether to drop, wait for its chain, or come back at a given time.
 */

export type ClaimResult =
  | { kind: 'gone' }
  | { kind: 'final'; status: ForwardStatus }
  | { kind: 'held' }
  | { kind: 'cancelled' }
  /** An earlier delivery of its chain is not finished: that one's completion hands this one on. */
  | { kind: 'waiting' }
  /** Not due yet (a lease of another sender, the next retry, the breaker's probe time): come back then. */
  | { kind: 'later'; at: Date }
  /** `probe`: sent as the open breaker's one probe; its answer closes or re-opens the breaker. */
  | { kind: 'send'; delivery: ClaimedDelivery; destination: ForwardDestination; probe: boolean };

/**
 * Take a delivery for one attempt: checks it is pending, its destination active (or the delivery is
 * its open breaker's probe, and the probe is due), it heads its chain and is due, then leases it for
 * `leaseMs` and counts the attempt. Every call counts a claim on the row. The destination's limits
 * (rate, deliveries in flight) are the caller's to check before: a claim is a Postgres round trip.
 */
export async function claimDelivery(db: Db, id: string, leaseMs: number): Promise<ClaimResult> {
  // The usual case in one statement (its own transaction), which also reads the destination: due,
  // pending, destination active, head of its chain, not leased. Anything else is sorted out below.
  const fast = await leaseDelivery(
    db,
    id,
    leaseMs,
    sql`where f.id = ${id} and f.status = 'pending'
        and (f.lease_until is null or f.lease_until <= now())
        and f.next_attempt_at <= now() + interval '1 second'
        and exists (select 1 from forward_destinations a where a.id = f.destination_id and a.state = 'active')
        and ${headsItsChain}
      for update of f skip locked`,
  );
  if (fast) return { kind: 'send', ...fast, probe: false };
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<ForwardDelivery & { now: Date }>`
      update forward_deliveries f set claims = f.claims + 1 where f.id = ${id}
      returning f.*, now() as now`.execute(trx);
    const d = rows[0];
    if (!d) return { kind: 'gone' as const };
    if (d.status !== 'pending') return { kind: 'final' as const, status: d.status };
    const destination = (await findDestination(trx, d.destination_id))!;
    const probe =
      destination.state === 'paused' && destination.paused_by === 'breaker' && destination.probe_delivery_id === d.id;
    if (destination.state !== 'active' && !probe) {
      const status = destination.state === 'paused' ? 'held' : 'cancelled';
      await trx
        .updateTable('forward_deliveries')
        .set({ status, lease_until: null, ...(status === 'cancelled' ? { finished_at: sql<Date>`now()` } : {}) })
        .where('id', '=', id)
        .execute();
      return { kind: status };
    }
    if (d.lease_until && d.lease_until > d.now) return { kind: 'later' as const, at: d.lease_until };
    if (d.next_attempt_at.getTime() > d.now.getTime() + 1000) return { kind: 'later' as const, at: d.next_attempt_at };
    if (probe && destination.probe_at && destination.probe_at.getTime() > d.now.getTime() + 1000)
      return { kind: 'later' as const, at: destination.probe_at };
    const earlier = await trx
      .selectFrom('forward_deliveries')
      .select('id')
      .where('destination_id', '=', d.destination_id)
      .where('subject', '=', d.subject)
      .where('status', 'in', ['pending', 'held'])
      .where('id', '<', id)
      .limit(1)
      .executeTakeFirst();
    if (earlier) return { kind: 'waiting' as const };
    if (probe) {
      // One probe at a time: until its answer is recorded, nobody else finds it due.
      await trx
        .updateTable('forward_destinations')
        .set({ probe_at: fromNow(leaseMs) })
        .where('id', '=', destination.id)
        .execute();
    }
    const leased = (await leaseDelivery(trx, id, leaseMs, sql`where f.id = ${id}`, false))!;
    return { kind: 'send' as const, ...leased, probe };
  });
}
