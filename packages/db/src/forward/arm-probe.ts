import { sql } from 'kysely';
import type { Db } from '../database';
import { headsItsChain, type ForwardHead } from './chain-heads';

/*
 * An open breaker closes only through a probe: one delivery sent when the cool-down is over. When the
 * attempt that opened it was final (so it cannot be the probe itself), or the probe failed for good,
 * another head of the destination's chains takes the role, so the breaker always closes by itself.
 */

/**
 * Choose the open breaker's probe when it has none: the oldest chain head (pending or held) of the
 * destination, made pending and due at the probe time. Undefined: nothing to probe with (the next
 * delivery written is held; the sweeper arms one then, releaseStrandedHeld).
 */
export async function armProbe(db: Db, destinationId: string): Promise<ForwardHead | undefined> {
  const { rows } = await sql<ForwardHead>`
    with head as (
      select f.id from forward_deliveries f join forward_destinations d on d.id = f.destination_id
      where f.destination_id = ${destinationId} and f.status in ('pending', 'held')
        and d.state = 'paused' and d.paused_by = 'breaker'
        and ${headsItsChain}
      order by f.id limit 1
      for update of f skip locked
    ), armed as (
      update forward_destinations d set probe_delivery_id = head.id from head where d.id = ${destinationId}
    )
    update forward_deliveries f set status = 'pending', lease_until = null,
      next_attempt_at = greatest(f.next_attempt_at, (select probe_at from forward_destinations where id = ${destinationId}))
    from head where f.id = head.id
    returning f.id, f.destination_id, f.subject, f.event_type`.execute(db);
  return rows[0];
}
