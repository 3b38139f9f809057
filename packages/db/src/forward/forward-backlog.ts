import { sql } from 'kysely';
import type { Db } from '../database';

/*
 * The forwarding gauges (metrics, and `make chaos` watching a destination): per destination, what
 * waits and for how long, and whether its breaker is open. One grouped statement, joining only the
 * unfinished deliveries, so a long history of delivered rows is left out of the count.
 */

export interface DestinationGauge {
  destination_id: string;
  pending: number;
  held: number;
  oldest_pending_seconds: number;
  /** 0 active, 1 its breaker is open (it probes and closes itself), 2 paused until resume (operator, 410). */
  breaker_state: number;
}

/** For metrics: unfinished deliveries per destination and the age of the oldest. */
export async function forwardBacklog(db: Db): Promise<DestinationGauge[]> {
  const { rows } = await sql<DestinationGauge>`
    select d.id as destination_id,
      count(f.id) filter (where f.status = 'pending')::int as pending,
      count(f.id) filter (where f.status = 'held')::int as held,
      coalesce(extract(epoch from now() - min(f.created_at)), 0)::float8 as oldest_pending_seconds,
      (case when d.state = 'active' then 0 when d.paused_by = 'breaker' then 1 else 2 end)::int as breaker_state
    from forward_destinations d
    left join forward_deliveries f on f.destination_id = d.id and f.status in ('pending', 'held')
    where d.state <> 'removed'
    group by d.id order by d.id`.execute(db);
  return rows;
}
