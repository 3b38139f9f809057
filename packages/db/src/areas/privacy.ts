/** @callsync/db/privacy: Personal data: erasure, the secret-key check, retention. */
export type { RetentionRun } from '../retention-run.table';
export {
  pruneEventPayloads,
  deleteOldEventRows,
  pruneSessionPii,
  pruneChatPii,
  deleteOldReconcileRuns,
  deleteOldDeliveries,
  pruneDeliveryPayloads,
  pruneFailedEventPayloads,
  expireUnsentDeliveries,
  pruneFunctionCalls,
  pruneTransferEvents,
  lastRetentionRunFailed,
  startRetentionRun,
  finishRetentionRun,
  summarizeRetention,
} from '../retention.repository';
export type { RetentionCounts, RetentionDays, RetentionSummary } from '../retention.repository';
export { findCallerHashSalt, rewrapLegacyCallerHashes, rewriteDestinationSecrets } from '../secret-key.repository';
export type { Erasure } from '../erasure.table';
export {
  ERASED,
  eraseCallSessions,
  eraseChatSessions,
  eraseDeliveriesOf,
  eraseEventsOf,
  eraseFunctionCalls,
  eraseInboundRecordsFrom,
  eraseTransferEvents,
  findCallsOfCaller,
  findSubjects,
  recordErasure,
} from '../erasure.repository';
