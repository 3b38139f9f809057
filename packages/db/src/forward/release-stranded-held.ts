import { sql } from 'kysely';
import type { Db } from '../database';
import { armProbe } from './arm-probe';
import { boundedTransaction } from './bounded';

/*
 * Two races leave deliveries waiting for nothing, and the sweeper mends both here before it looks for
 * lost jobs: a delivery held by an apply that read its destination as paused just before a resume
 * released the held ones, and an open breaker whose probe time came without a probe to send.
 */

/**
 * Release deliveries held for a destination that is active again, written before `cutoff`. An apply
 * that read the destination as paused can commit its held delivery just after a resume released the
 * held ones; this picks those up (the sweeper runs it before looking for overdue heads). It also arms
 * a probe for an open breaker whose probe time has come and that has none (its probe failed for good,
 * or nothing was left to probe with when it opened), so a breaker always closes by itself.
 */
export async function releaseStrandedHeld(db: Db, cutoff: Date): Promise<number> {
  const r = await sql`
    update forward_deliveries f set status = 'pending'
    where f.destination_id in (select id from forward_destinations where state = 'active')
      and f.status = 'held' and f.created_at < ${cutoff}`.execute(db);
  const { rows: unarmed } = await sql<{ id: string }>`
    select d.id from forward_destinations d
    where d.state = 'paused' and d.paused_by = 'breaker' and d.probe_at <= now()
      and not exists (select 1 from forward_deliveries f where f.id = d.probe_delivery_id and f.status = 'pending')`.execute(
    db,
  );
  let armed = 0;
  for (const d of unarmed) if (await boundedTransaction(db, (trx) => armProbe(trx, d.id))) armed += 1;
  return Number(r.numAffectedRows ?? 0) + armed;
}
