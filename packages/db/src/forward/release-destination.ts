import type { Db } from '../database';
import { boundedTransaction } from './bounded';
import { findChainHeads, type ForwardHead } from './chain-heads';
import { releaseHeldDeliveries } from './hold-release';

/*
 * Whatever made a destination active again (a resume, or its breaker closing after a good probe),
 * its held deliveries go out in the order they were written: all become pending, but only the head
 * of each chain gets a job; the rest follow as each head is delivered.
 */

/**
 * An active destination's held deliveries made pending (in batches), and the heads of its chains
 * that need a job: after a resume, or after the breaker closed itself.
 */
export async function releaseDestination(db: Db, id: string): Promise<{ released: number; heads: ForwardHead[] }> {
  const released = await releaseHeldDeliveries(db, id);
  const heads = await boundedTransaction(db, (trx) => findChainHeads(trx, id), { statementTimeoutMs: 30_000 });
  return { released, heads };
}
