import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardDelivery } from '../forward.table';

/*
 * Reads of deliveries and their attempts for the people and checks looking at them: the console's
 * call page, the CLI's demo, `make chaos`'s check against what was applied, and tests. They change
 * nothing and take no locks, so the sending path never waits for them.
 */

/** The attempts at one delivery, oldest first. */
export async function findAttempts(db: Db, deliveryId: string) {
  return db.selectFrom('forward_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').execute();
}

/** Every delivery to one destination, oldest first (`make chaos` checks them against what was applied). */
export async function findDeliveriesTo(db: Db, destinationId: string): Promise<ForwardDelivery[]> {
  return db
    .selectFrom('forward_deliveries')
    .selectAll()
    .where('destination_id', '=', destinationId)
    .orderBy('id')
    .execute();
}

/** Deliveries of one subject (a call or chat), oldest first; for tests and the console. */
export async function findDeliveriesOf(db: Db, subject: string): Promise<ForwardDelivery[]> {
  return db.selectFrom('forward_deliveries').selectAll().where('subject', '=', subject).orderBy('id').execute();
}

/**
 * For `make chaos`: when each delivered delivery's event was applied, when it was delivered, and its
 * attempts lost in flight: counted by a claim but never recorded, because the sender died (SIGKILL)
 * or could not record the answer, so the delivery waited out its lease before it was sent again.
 */
export async function appliedAndDelivered(
  db: Db,
  destinationId: string,
): Promise<{ applied_at: Date; delivered_at: Date; lost_attempts: number }[]> {
  const { rows } = await sql<{ applied_at: Date; delivered_at: Date; lost_attempts: number }>`
    select e.processed_at as applied_at, f.delivered_at,
      f.attempts - (select count(*) from forward_attempts a where a.delivery_id = f.id)::int as lost_attempts
    from forward_deliveries f join webhook_events e on e.id = f.webhook_event_id
    where f.destination_id = ${destinationId} and f.status = 'delivered' and e.processed_at is not null
    order by f.id`.execute(db);
  return rows;
}
