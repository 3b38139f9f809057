import type { RetentionPolicy } from '@callsync/config';
import {
  deleteOldEventRows,
  deleteOldDeliveries,
  deleteOldReconcileRuns,
  pruneDeliveryPayloads,
  finishRetentionRun,
  pruneEventPayloads,
  pruneChatPii,
  pruneSessionPii,
  startRetentionRun,
  type Db,
  type RetentionCounts,
} from '@callsync/db';
import { callerHasher, type SecretKeyring } from '@callsync/domain';
import type { Logger } from '@callsync/logger';

export type RetentionResult = RetentionCounts;

const DAY_MS = 86_400_000;

/** Run `step` in batches until a batch comes back short; the total. */
async function inBatches(step: (limit: number) => Promise<number>, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step(batch);
    total += n;
    if (n < batch) return total;
  }
}

/**
 * Storage and caller data do not live forever (the policy's three settings, in days):
 * - applied events older than payloadDays lose payload, raw body and signature (rows stay for
 *   reports and dedupe);
 * - event rows older than eventRowDays go, except pending ones; so do old reconcile_runs;
 * - forwarding: finished deliveries lose their session-mode body after payloadDays (counted as
 *   payloads) and go, with their attempts, after eventRowDays (counted as event rows);
 * - sessions that ended more than sessionPiiDays ago lose numbers, transcript and recording URL,
 *   keeping the customer's number as a hash keyed with `keys` (CALLSYNC_SECRET_KEY); chats lose
 *   their transcript (both count as sessionsPiiPruned).
 * Each step works in batches of `batch` rows. The run is recorded in retention_runs.
 * Redis stays bounded by the jobs' removeOnComplete/removeOnFail.
 */
export async function applyRetention(
  db: Db,
  keys: SecretKeyring,
  logger: Logger,
  policy: RetentionPolicy,
  now = new Date(),
  batch = 1000,
): Promise<RetentionResult> {
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const runId = await startRetentionRun(db, policy);
  const counts: RetentionCounts = {
    payloadsPruned: 0,
    eventRowsDeleted: 0,
    sessionsPiiPruned: 0,
    reconcileRunsDeleted: 0,
  };
  try {
    // Rows first: a row about to go needs no pruning.
    counts.eventRowsDeleted = await inBatches((n) => deleteOldEventRows(db, ago(policy.eventRowDays), n), batch);
    counts.eventRowsDeleted += await inBatches((n) => deleteOldDeliveries(db, ago(policy.eventRowDays), n), batch);
    counts.payloadsPruned = await inBatches((n) => pruneEventPayloads(db, ago(policy.payloadDays), n), batch);
    counts.payloadsPruned += await inBatches((n) => pruneDeliveryPayloads(db, ago(policy.payloadDays), n), batch);
    const hasher = await callerHasher(db, keys);
    counts.sessionsPiiPruned = await inBatches(
      (n) => pruneSessionPii(db, ago(policy.sessionPiiDays), n, hasher.hash),
      batch,
    );
    counts.sessionsPiiPruned += await inBatches((n) => pruneChatPii(db, ago(policy.sessionPiiDays), n), batch);
    counts.reconcileRunsDeleted = await deleteOldReconcileRuns(db, ago(policy.eventRowDays));
  } catch (err) {
    await finishRetentionRun(db, runId, counts, (err as Error).message).catch(() => undefined);
    throw err;
  }
  await finishRetentionRun(db, runId, counts);
  if (Object.values(counts).some((n) => n > 0)) logger.info('retention applied', { ...counts, ...policy });
  return counts;
}
