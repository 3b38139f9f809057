import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardDestination } from '../forward.table';

/*
 * The destinations as `make destinations` lists them: each with how its deliveries stand, counted
 * in one statement (a lateral join per destination), so the list costs one round trip however many
 * destinations there are.
 */

export interface DestinationSummary extends ForwardDestination {
  pending: number;
  held: number;
  delivered: number;
  failed: number;
  oldest_pending_at: Date | null;
}

/** Every destination not removed (with `all`, removed ones too), with its delivery counts. */
export async function listDestinations(db: Db, options: { all?: boolean } = {}): Promise<DestinationSummary[]> {
  const { rows } = await sql<DestinationSummary>`
    select d.*,
      coalesce(c.pending, 0)::int as pending, coalesce(c.held, 0)::int as held,
      coalesce(c.delivered, 0)::int as delivered, coalesce(c.failed, 0)::int as failed, c.oldest_pending_at
    from forward_destinations d
    left join lateral (
      select count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'held') as held,
        count(*) filter (where status = 'delivered') as delivered,
        count(*) filter (where status = 'failed') as failed,
        min(created_at) filter (where status in ('pending', 'held')) as oldest_pending_at
      from forward_deliveries f where f.destination_id = d.id
    ) c on true
    where ${options.all ? sql`true` : sql`d.state <> 'removed'`}
    order by d.id`.execute(db);
  return rows;
}
