import { sql } from 'kysely';
import type { Db } from '../database';

/**
 * Hold a SHARE lock on webhook_events for `ms`, or until `until` settles: every INSERT and every
 * claim waits meanwhile, reads go on. `make chaos` and the alert tests use it to play a database
 * that stalls.
 */
export async function holdWebhookEventsLock(db: Db, until: number | Promise<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`lock table webhook_events in share mode`.execute(trx);
    if (typeof until === 'number') await new Promise((resolve) => setTimeout(resolve, until));
    else await until.catch(() => undefined);
  });
}
