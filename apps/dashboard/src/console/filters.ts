import { type Db } from '@callsync/db';
import { findCompany } from '@callsync/db/tenants';
import { type CallSearch, type EventSearch } from '@callsync/db/ops';
import { PAGE, parseAfter, parseCallQuery, parseEventQuery, type Query } from './query';

/* The pages' filters with their company looked up: the one part of reading a query that needs Postgres. */

/** A company given by id or name: its id. RangeError when there is no such company. */
export async function companyIdOf(db: Db, ref: string | undefined): Promise<string | undefined> {
  if (!ref) return undefined;
  const id = (await findCompany(db, ref))?.id;
  if (!id) throw new RangeError(`company: no company "${ref}"`);
  return id;
}

export async function callSearchOf(db: Db, q: Query): Promise<CallSearch> {
  const companyId = await companyIdOf(db, q.company);
  return { ...parseCallQuery(q), companyId };
}

export async function eventSearchOf(db: Db, q: Query): Promise<EventSearch> {
  const companyId = await companyIdOf(db, q.company);
  return { ...parseEventQuery(q), companyId, after: parseAfter(q.after), limit: PAGE };
}
