import { sql } from 'kysely';
import type { Db } from '../database';

/** Rows one batch of hold, release or cancel touches. */
export const FORWARD_BATCH = 1000;

export interface Bounds {
  /** statement_timeout of each statement. Default 5000 ms. */
  statementTimeoutMs?: number;
  /** lock_timeout: give up waiting for a row lock after this. Default 2000 ms. */
  lockTimeoutMs?: number;
}

/**
 * `fn` in a transaction of its own whose statements give up after `statementTimeoutMs` and whose
 * locks after `lockTimeoutMs`: an operator's command or a breaker never holds the apply path for
 * long, whatever pool it runs on (the CLI's has no timeouts of its own).
 */
export async function boundedTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>, b: Bounds = {}): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('statement_timeout', ${String(b.statementTimeoutMs ?? 5000)}, true),
      set_config('lock_timeout', ${String(b.lockTimeoutMs ?? 2000)}, true)`.execute(trx);
    return fn(trx);
  });
}

/** Run `batch` (one bounded transaction each) until it touches fewer rows than `size`; the total. */
export async function inBatches(db: Db, size: number, batch: (trx: Db) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await boundedTransaction(db, batch);
    total += n;
    if (n < size) return total;
  }
}
