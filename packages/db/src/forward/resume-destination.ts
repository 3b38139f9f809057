import { sql } from 'kysely';
import type { Db } from '../database';
import { boundedTransaction } from './bounded';
import type { ForwardHead } from './chain-heads';
import { releaseDestination } from './release-destination';

/*
 * Resume ends every kind of pause: an operator's, a 410's, and an open breaker's (the operator knows
 * the receiver is back and need not wait for the probe). The breaker starts afresh: its streak and
 * its openings are cleared, so the next opening waits the first cool-down again.
 */

/**
 * Resume a paused destination (by hand, or after a 410, or while its breaker is open): held
 * deliveries become pending, due now (in batches). Returns the heads of their chains (one per
 * subject, the oldest), which need jobs; the rest follow in order as each head is delivered. `probe`:
 * the open breaker's probe delivery, due now too; its job waits delayed for the probe time, so it
 * needs a job of its own to go now.
 */
export async function resumeDestination(
  db: Db,
  id: string,
): Promise<{ released: number; heads: ForwardHead[]; probe: ForwardHead | undefined }> {
  const probe = await boundedTransaction(db, async (trx) => {
    const { rows } = await sql<ForwardHead>`
      with old as (select id, probe_delivery_id from forward_destinations where id = ${id} and state = 'paused' for update),
      resumed as (
        update forward_destinations d set state = 'active', paused_by = null, paused_reason = null,
          consecutive_failures = 0, breaker_opens = 0, probe_at = null, probe_delivery_id = null, updated_at = now()
        from old where d.id = old.id
      )
      update forward_deliveries f set next_attempt_at = now()
      from old where f.id = old.probe_delivery_id and f.status = 'pending'
      returning f.id, f.destination_id, f.subject, f.event_type`.execute(trx);
    return rows[0];
  });
  return { ...(await releaseDestination(db, id)), probe };
}
