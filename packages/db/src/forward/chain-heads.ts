import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardStatus } from '../forward.table';

/*
 * Chains and their heads. Deliveries of one subject (call or chat) to one destination form a chain
 * that is sent in id order: only its head, the oldest delivery still pending or held, is sent, and
 * finishing a head hands the chain on to the next. Every operation that decides whether a delivery
 * may go asks the same question, so it is asked here once.
 */

/** A chain head that should have a job: the forwarder's queue needs only these fields. */
export interface ForwardHead {
  id: string;
  destination_id: string;
  subject: string;
  event_type: string;
}

/** In a query over `forward_deliveries f`: f heads its chain (no earlier delivery of it is unfinished). */
export const headsItsChain = sql`not exists (select 1 from forward_deliveries p where p.destination_id = f.destination_id
          and p.subject = f.subject and p.status in ('pending', 'held') and p.id < f.id)`;

/** A head without the columns its query needed to find it. */
export function stripStatus<H extends ForwardHead>(h: H & { status?: unknown }): ForwardHead {
  return { id: h.id, destination_id: h.destination_id, subject: h.subject, event_type: h.event_type };
}

/**
 * Which of `candidates` head their chain. Locks the chains' unfinished deliveries (FOR SHARE), so a
 * forwarder finishing the previous head concurrently either commits first (and this sees it
 * finished) or waits for this transaction (and then finds these candidates as the next head).
 */
export async function chainHeads<H extends ForwardHead>(db: Db, candidates: readonly H[]): Promise<H[]> {
  const { rows } = await sql<{ id: string; destination_id: string; subject: string }>`
    select id, destination_id, subject from forward_deliveries
    where (destination_id, subject) in (
      select * from unnest(${candidates.map((c) => c.destination_id)}::bigint[], ${candidates.map((c) => c.subject)}::text[]))
      and status in ('pending', 'held')
    order by id
    for share`.execute(db);
  const heads = new Set<string>();
  const seen = new Set<string>();
  for (const r of rows) {
    const chain = `${r.destination_id}\u0000${r.subject}`;
    if (seen.has(chain)) continue;
    seen.add(chain);
    heads.add(r.id);
  }
  return candidates.filter((c) => heads.has(c.id));
}

/** The head of every chain of a destination that has one pending. */
export async function findChainHeads(db: Db, destinationId: string): Promise<ForwardHead[]> {
  const { rows } = await sql<ForwardHead & { status: ForwardStatus }>`
    select distinct on (subject) id, destination_id, subject, event_type, status from forward_deliveries
    where destination_id = ${destinationId} and status in ('pending', 'held')
    order by subject, id`.execute(db);
  return rows.filter((r) => r.status === 'pending').map(stripStatus);
}

/** The chain's head once one of its deliveries finished, if it is pending (a held one waits for its release). */
export async function nextHead(db: Db, destinationId: string, subject: string): Promise<ForwardHead | undefined> {
  const next = await db
    .selectFrom('forward_deliveries')
    .select(['id', 'destination_id', 'subject', 'event_type', 'status'])
    .where('destination_id', '=', destinationId)
    .where('subject', '=', subject)
    .where('status', 'in', ['pending', 'held'])
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return next?.status === 'pending' ? stripStatus(next) : undefined;
}
