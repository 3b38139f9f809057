import { sql } from 'kysely';

/*
 * Every lease, retry and probe time is Postgres's now() plus a span, never a sender's clock: the
 * workers' clocks may disagree with each other, the database's is the one every claim compares with.
 */

/** In SQL: `ms` milliseconds after the transaction's now(). */
export function fromNow(ms: number) {
  return sql<Date>`now() + make_interval(secs => ${ms / 1000})`;
}
