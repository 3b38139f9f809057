import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardDelivery, ForwardStatus } from '../forward.table';
import { findChainHeads, type ForwardHead } from './chain-heads';

/*
 * Replay sends finished deliveries again (a receiver lost data, or was fixed after failing them).
 * The operator first sees what a selection holds, then marks it: the two steps are one operation,
 * so they live together. A replayed delivery keeps its webhook-id and its place in its chain.
 */

export interface DeliveryReplaySelection {
  destinationId: string;
  since: Date;
  statuses: readonly ForwardStatus[];
  limit: number;
}

/** Deliveries of a destination created since `since` with one of `statuses`, oldest first. */
export async function findDeliveriesToReplay(db: Db, s: DeliveryReplaySelection): Promise<ForwardDelivery[]> {
  return db
    .selectFrom('forward_deliveries')
    .selectAll()
    .where('destination_id', '=', s.destinationId)
    .where('created_at', '>=', s.since)
    .where('status', 'in', [...s.statuses])
    .orderBy('id')
    .limit(s.limit)
    .execute();
}

/**
 * Send deliveries again: pending (held if the destination is paused), due now, with a fresh retry
 * schedule; their webhook-id stays, so a receiver that deduplicates sees them as redeliveries.
 * Returns the chain heads that need a job.
 */
export async function markDeliveriesForReplay(
  db: Db,
  destinationId: string,
  ids: readonly string[],
): Promise<{ marked: number; heads: ForwardHead[] }> {
  if (ids.length === 0) return { marked: 0, heads: [] };
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      update forward_deliveries f set
        status = case when d.state = 'active' then 'pending' else 'held' end,
        attempts = 0, next_attempt_at = now(), lease_until = null, finished_at = null,
        replay_count = f.replay_count + 1
      from forward_destinations d
      where d.id = f.destination_id and d.state <> 'removed' and f.destination_id = ${destinationId}
        and f.id = any(${[...ids]}::bigint[]) and f.status in ('delivered', 'failed', 'cancelled')
      returning f.id`.execute(trx);
    return { marked: rows.length, heads: await findChainHeads(trx, destinationId) };
  });
}
