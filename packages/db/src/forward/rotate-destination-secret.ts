import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardDestination } from '../forward.table';

/*
 * Rotating a signing secret without an outage: for a while every delivery carries two signatures,
 * one with the new secret and one with the previous, so the receiver can switch at its own pace.
 */

/** A new secret; the previous one keeps signing (both signatures are sent) for `overlapHours`. */
export async function rotateDestinationSecret(
  db: Db,
  id: string,
  secret: string,
  overlapHours: number,
): Promise<ForwardDestination | undefined> {
  return db
    .updateTable('forward_destinations')
    .set({
      previous_secret: sql<string>`secret`,
      previous_secret_expires_at: sql<Date>`now() + make_interval(hours => ${overlapHours})`,
      secret,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('state', '<>', 'removed')
    .returningAll()
    .executeTakeFirst();
}
