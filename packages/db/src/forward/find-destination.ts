import type { Db } from '../database';
import type { ForwardDestination } from '../forward.table';

/*
 * One destination by id, removed or not. Ids come from operators and URLs as text: one that is not a
 * number names no destination, rather than making Postgres fail the cast.
 */

export async function findDestination(db: Db, id: string): Promise<ForwardDestination | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return db.selectFrom('forward_destinations').selectAll().where('id', '=', id).executeTakeFirst();
}
