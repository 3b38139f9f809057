import type { RetentionPolicy } from '@callsync/config';
import { type Db } from '@callsync/db';
import { deleteOldAuditRuns } from '@callsync/db/reconcile';
import { deleteOldAlertMessages } from '@callsync/db/ops';
import {
  deleteOldEventRows,
  deleteOldDeliveries,
  deleteOldReconcileRuns,
  expireUnsentDeliveries,
  pruneDeliveryPayloads,
  pruneFailedEventPayloads,
  pruneFunctionCalls,
  pruneTransferEvents,
  finishRetentionRun,
  pruneEventPayloads,
  pruneChatPii,
  pruneSessionPii,
  startRetentionRun,
  type RetentionCounts,
} from '@callsync/db/privacy';
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
 * Storage and caller data do not live forever (the policy, in days; README "Personal data"):
 * - event rows older than eventRowDays go, except pending ones; so do old reconcile_runs, audit_runs
 *   and alert_messages (counted as reconcileRunsDeleted), and finished deliveries (with their attempts);
 * - applied events older than payloadDays lose payload, raw body, signature and inbound answer; failed
 *   ones after failedPayloadDays (they can no longer be replayed); finished deliveries lose their
 *   session body after payloadDays, and unsent ones older than that are cancelled as expired;
 * - sessions and chats that ended more than sessionPiiDays ago, or started that long ago and never
 *   ended, lose every column about the caller, keeping the customer's number as a hash keyed with
 *   `keys` (CALLSYNC_SECRET_KEY); function calls lose args and results, transfer events their
 *   destinations, after the same period.
 * Each step works in batches of `batch` rows and runs on its own: one that fails is recorded (the
 * run's error, the callsync_retention_last_run_failed gauge) and the others still run; then the
 * run fails. The run is recorded in retention_runs. Redis stays bounded by the jobs'
 * removeOnComplete/removeOnFail.
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
    failedPayloadsPruned: 0,
    eventRowsDeleted: 0,
    sessionsPiiPruned: 0,
    functionCallsPruned: 0,
    transferEventsPruned: 0,
    deliveriesExpired: 0,
    reconcileRunsDeleted: 0,
  };
  const failures: string[] = [];
  const batches = (prune: (limit: number) => Promise<number>) => () => inBatches(prune, batch);
  const rows = ago(policy.eventRowDays);
  const payloads = ago(policy.payloadDays);
  const pii = ago(policy.sessionPiiDays);
  let hasher: Awaited<ReturnType<typeof callerHasher>> | undefined;
  const sessions = async () => {
    hasher ??= await callerHasher(db, keys);
    const hash = hasher.hash;
    return (
      (await inBatches((n) => pruneSessionPii(db, pii, n, hash), batch)) +
      (await inBatches((n) => pruneSessionPii(db, pii, n, hash, { neverEnded: true }), batch))
    );
  };
  // In this order: rows first (a row about to go needs no pruning), then bodies, then caller data.
  const steps: [name: string, counted: keyof RetentionCounts, run: () => Promise<number>][] = [
    ['event rows', 'eventRowsDeleted', batches((n) => deleteOldEventRows(db, rows, n))],
    ['deliveries', 'eventRowsDeleted', batches((n) => deleteOldDeliveries(db, rows, n))],
    ['payloads', 'payloadsPruned', batches((n) => pruneEventPayloads(db, payloads, n))],
    [
      'failed payloads',
      'failedPayloadsPruned',
      batches((n) => pruneFailedEventPayloads(db, ago(policy.failedPayloadDays), n)),
    ],
    ['delivery bodies', 'payloadsPruned', batches((n) => pruneDeliveryPayloads(db, payloads, n))],
    // Unsent deliveries keep their body past RETENTION_DAYS; only the personal-data period ends them.
    [
      'unsent deliveries',
      'deliveriesExpired',
      batches((n) => expireUnsentDeliveries(db, pii, policy.sessionPiiDays, n)),
    ],
    ['sessions', 'sessionsPiiPruned', sessions],
    ['chats', 'sessionsPiiPruned', batches((n) => pruneChatPii(db, pii, n))],
    ['function calls', 'functionCallsPruned', batches((n) => pruneFunctionCalls(db, pii, n))],
    ['transfer events', 'transferEventsPruned', batches((n) => pruneTransferEvents(db, pii, n))],
    ['reconcile runs', 'reconcileRunsDeleted', () => deleteOldReconcileRuns(db, rows)],
    ['audit runs', 'reconcileRunsDeleted', () => deleteOldAuditRuns(db, rows)],
    ['alert messages', 'reconcileRunsDeleted', () => deleteOldAlertMessages(db, rows)],
  ];
  // Each step on its own: one that fails is recorded, and the others still run.
  for (const [name, counted, run] of steps) {
    try {
      counts[counted] += await run();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
      logger.error('retention step failed; the other steps still run', { step: name, err: (err as Error).message });
    }
  }
  const error = failures.length ? failures.join('; ') : undefined;
  await finishRetentionRun(db, runId, counts, error);
  if (Object.values(counts).some((n) => n > 0)) logger.info('retention applied', { ...counts, ...policy });
  if (error) throw new Error(`retention: ${failures.length} step(s) failed: ${error}`);
  return counts;
}
