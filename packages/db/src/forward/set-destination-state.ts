import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database';
import { boundedTransaction } from './bounded';

/*
 * Pause and remove start the same way: the destination row changes state in a short transaction of
 * its own, with statement and lock timeouts, before its deliveries are worked through in batches. An
 * operator's command must never wait behind (or hold up) the apply path for long.
 */

/** Flip a destination's state in a short, bounded transaction; false: it was not in a state `from` allows. */
export async function setDestinationState(
  db: Db,
  id: string,
  set: RawBuilder<unknown>,
  from: RawBuilder<unknown>,
): Promise<boolean> {
  return boundedTransaction(db, async (trx) => {
    const r =
      await sql`update forward_destinations set ${set}, updated_at = now() where id = ${id} and ${from}`.execute(trx);
    return Number(r.numAffectedRows ?? 0) > 0;
  });
}
