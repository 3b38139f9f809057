import { sql } from 'kysely';
import type { Db } from './database';

/*
 * What the outbox sweeper reads. Each query walks the partial index on pending rows' ids
 * (webhook_events_pending_id_idx), so its cost is the page it returns, not the backlog: a filter on
 * created_at in the WHERE clause would let the planner pick the created_at index instead and sort
 * the whole backlog for every page (about a second per page with a million pending rows).
 */

/** The id of the oldest pending webhook_events row (any age), or null: every row below it is finished. */
export async function oldestPendingEventId(db: Db): Promise<string | null> {
  const { rows } = await sql<{ id: string | null }>`
    select min(id)::text as id from webhook_events where status = 'pending'`.execute(db);
  return rows[0]?.id ?? null;
}

export interface PendingRow {
  id: string;
  event_type: string;
  call_id: string | null;
  chat_id: string | null;
  /** Received before the cutoff: the ingress has had its chance to enqueue it. */
  due: boolean;
}

/**
 * The next `limit` pending rows after `afterId` (null: from the first), in id order. (The column is
 * named in full: a bare `order by id` would sort by the text the select list makes of it.)
 */
export async function findPendingPage(
  db: Db,
  cutoff: Date,
  afterId: string | null,
  limit: number,
): Promise<PendingRow[]> {
  const { rows } = await sql<PendingRow>`
    select id::text as id, event_type, call_id, chat_id, created_at < ${cutoff} as due
    from webhook_events
    where status = 'pending' and webhook_events.id > ${afterId ?? '0'}::bigint
    order by webhook_events.id limit ${limit}`.execute(db);
  return rows;
}
