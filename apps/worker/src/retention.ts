import { sql } from 'kysely';
import { pruneEventPayloads, type Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';

export interface RetentionResult {
  /** Events whose payload and raw body were stripped. */
  pruned: number;
  /** reconcile_runs rows deleted. */
  runsDeleted: number;
}

/**
 * Storage does not grow without bound: applied events older than `days` lose payload, raw body and
 * signature (the row stays, so reports and dedupe keep working), in batches so no lock is held long;
 * old reconcile_runs go. Redis stays bounded by the jobs' removeOnComplete/removeOnFail.
 */
export async function applyRetention(db: Db, logger: Logger, days: number, now = new Date(), batch = 1000): Promise<RetentionResult> {
  const before = new Date(now.getTime() - days * 86_400_000);
  let pruned = 0;
  for (;;) {
    const n = await pruneEventPayloads(db, before, batch);
    pruned += n;
    if (n < batch) break;
  }
  const runs = await sql`delete from reconcile_runs where started_at < ${before}`.execute(db);
  const result = { pruned, runsDeleted: Number(runs.numAffectedRows ?? 0) };
  if (pruned || result.runsDeleted) logger.info('retention applied', { ...result, retention_days: days });
  return result;
}
