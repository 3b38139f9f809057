import { sql } from 'kysely';
import type { Db } from '../database';
import { headsItsChain, type ForwardHead } from './chain-heads';

/*
 * A delivery's job lives in Redis, its truth in Postgres. When Redis loses a job (a restart without
 * its data, a crash between commit and enqueue), the chain would wait forever; the sweeper finds such
 * heads here and enqueues them again, fairly across destinations.
 */

/**
 * Pending chain heads whose job should have run before `cutoff` and that no sender holds: their
 * job was lost (Redis restarted without its data, a crash between commit and enqueue). At most
 * `limit / 5` (and 20 at least) per destination: a rate-limited destination's long queue, whose jobs
 * wait delayed in BullMQ, must not crowd out another's lost ones.
 */
export async function findOverdueHeads(db: Db, cutoff: Date, limit: number): Promise<ForwardHead[]> {
  const perDestination = Math.max(20, Math.floor(limit / 5));
  const { rows } = await sql<ForwardHead>`
    select id, destination_id, subject, event_type from (
      select f.id, f.destination_id, f.subject, f.event_type, f.next_attempt_at,
        row_number() over (partition by f.destination_id order by f.next_attempt_at) as n
      from forward_deliveries f
      where f.status = 'pending' and f.next_attempt_at < ${cutoff}
        and (f.lease_until is null or f.lease_until < now())
        and ${headsItsChain}
    ) o where n <= ${perDestination}
    order by next_attempt_at limit ${limit}`.execute(db);
  return rows;
}
