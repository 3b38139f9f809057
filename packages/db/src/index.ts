export { createDb, pingDatabase } from './database';
export type { Database, Db, DbOptions } from './database';
export { migrateToLatest } from './migrate';
export { backfillSessionFields, completeDataMigrations } from './data-migrations';
export { classifyDatabaseError, isDatabaseUnavailable, isJsonbEncodingError, isPermanentDatabaseError } from './errors';
export type { DatabaseErrorKind } from './errors';

export type { WebhookEvent, WebhookEventStatus, WebhookEventSource, NewWebhookEvent } from './webhook-event.table';
export { FINAL_STATUSES } from './webhook-event.table';
export {
  recordDelivery,
  recordDeliveries,
  claimWebhookEvents,
  findAppliedKeys,
  markSkipped,
  findWebhookEventStatuses,
  recordWebhookEventFailure,
  findWebhookEvents,
  findPendingEvents,
  findEventsToReplay,
  markForReplay,
} from './webhook-event.repository';
export type { Delivery, RecordedDelivery, ReplaySelection } from './webhook-event.repository';

export type { CallSession, CallStatus } from './call-session.table';
export { findCallSession, lockCallSessions, recordTransferEvents, updateCallSessions } from './call-session.repository';
export type { CallSessionValues, NewTransferEvent } from './call-session.repository';
export type { CallTransferEvent } from './call-transfer-event.table';
export type { ChatSession, ChatStatus } from './chat-session.table';
export { findChatSession, lockChatSessions, updateChatSessions } from './chat-session.repository';
export type { ChatSessionValues } from './chat-session.repository';

export type { Agent } from './agent.table';
export type { CallerMemory, Company, PhoneNumber } from './company.table';
export { CALLER_MEMORY } from './company.table';
export { findAgentCompany, findCompanyIdForAgent, findCompanyIdForNumber } from './agent.repository';
export {
  E164,
  TENANTS_CHANNEL,
  addCompany,
  backfillSessionCompanies,
  findCompany,
  inheritNumberCompanies,
  listTenants,
  mapAgent,
  mapNumber,
  notifyTenantsChanged,
  updateCompanyCallerMemory,
  updateCompanyTimeZone,
  upsertSyncedAgents,
  findNumberRouting,
  setNumberRouting,
  findBlockedNumbers,
  setBlockedNumbers,
  upsertSyncedNumbers,
} from './tenant.repository';
export type { NumberRouting, ScheduleWindow, SyncedAgent, SyncedNumber, Tenants } from './tenant.repository';

export type { ReconcileRun } from './reconcile-run.table';
export {
  findStaleSubjects,
  countStaleSubjects,
  findSubjectsAwaitingAnalysis,
  countSubjectsAwaitingAnalysis,
  recordSubjectCheck,
  findStaleSessions,
  countStaleSessions,
  findSessionsAwaitingAnalysis,
  countSessionsAwaitingAnalysis,
  recordReconcileCheck,
  findStaleChats,
  countStaleChats,
  findChatsAwaitingAnalysis,
  countChatsAwaitingAnalysis,
  recordChatReconcileCheck,
  findDiscoveryWatermark,
  advanceDiscoveryWatermark,
  findKnownSessions,
  startReconcileRun,
  finishReconcileRun,
  withReconcileLock,
} from './reconcile.repository';
export type {
  ChatToReconcile,
  SessionCursor,
  SessionToReconcile,
  SubjectTable,
  SubjectToReconcile,
  ReconcileCheck,
  ReconcileCounts,
} from './reconcile.repository';
export type { RetentionRun } from './retention-run.table';
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
} from './retention.repository';
export type { RetentionCounts, RetentionDays, RetentionSummary } from './retention.repository';
export {
  countPendingEvents,
  countPendingEventsOfCalls,
  oldestPendingEventSeconds,
  countSessionsStuckInProgress,
  countSessionsGivenUp,
  countChatsStuckOngoing,
  countSessionsByCompany,
  findEventOutcomes,
} from './monitoring.repository';
export type { CompanySessionCount } from './monitoring.repository';
export { companySessions, processingRate, staleChats, staleSessions } from './reports';
export type { CompanySessions, ProcessingRate, StaleChat, StaleSession } from './reports';
export {
  CALLS_CHANNEL,
  ERASURES_CHANNEL,
  listenForTenantChanges,
  notifyCallsStarted,
  notifyErasure,
} from './tenant-listener';
export type { StartedCall, TenantListener } from './tenant-listener';
export {
  findCallForContext,
  findContextFacts,
  findInboundCallerFacts,
  findInboundFacts,
  recordAnsweredEvent,
  recordAnsweredEvents,
} from './context.repository';
export type { AnsweredEvent, CallForContext, ContextFactsQuery } from './context.repository';
export { loadRoutingSnapshot } from './routing.repository';
export type { RoutingSnapshot } from './routing.repository';
export type { CallerHistory, ContextFacts, InboundFacts, InboundQuery, PendingCallEvent } from './context.repository';
export type { FunctionCall, FunctionCallStatus } from './function-call.table';
export type { InboundSchedule } from './company.table';
export {
  claimInvocation,
  countReplay,
  findFunctionCallsOf,
  findRecentInvocation,
  finishInvocation,
  finishInvocations,
  markPendingAnswered,
  startInvocation,
  takePendingResults,
} from './function-call.repository';
export type { AnsweredResult, PendingResult } from './function-call.repository';
// Forwarding: forward/index.ts names what the area exports.
export * from './forward';
export { callsPerDay, eventsPerMinute, searchCalls, searchEvents } from './console.repository';
export type { CallRow, CallSearch, DayOutcome, EventRow, EventSearch, Keyset, MinuteCount } from './console.repository';
export {
  agentFunctionStats,
  agentVersionHealth,
  agentVersionStats,
  agentVersionsPerDay,
  e2eMedianIntervals,
  listAgentVersions,
} from './agent-stats.repository';
export type {
  AgentFunctionStats,
  AgentStatsFilter,
  AgentVersionHealth,
  AgentVersionFilter,
  AgentVersionStats,
  AgentVersions,
  MedianInterval,
  VersionDay,
} from './agent-stats.repository';
export { findCallerHashSalt, rewrapLegacyCallerHashes, rewriteDestinationSecrets } from './secret-key.repository';
export type { ApiToken } from './api-token.table';
export { addApiToken, listApiTokens, revokeApiToken, useApiToken } from './api-token.repository';
export type { ApiTokenListing } from './api-token.repository';
export type { Erasure } from './erasure.table';
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
} from './erasure.repository';
export type { AuditGapReason, AuditGapRecord, AuditRun } from './audit-run.table';
export {
  AUDIT_GAPS_KEPT,
  UNMAPPED_COMPANY,
  deleteOldAuditRuns,
  findAgentCompanies,
  findAuditedSessions,
  findUnforwardedEvents,
  latestAuditRuns,
  listCompanyNames,
  recordAuditRun,
} from './audit.repository';
export type { AuditedSession, CompanyAuditCounts, NewAuditRun, UnforwardedEvent } from './audit.repository';

export {
  countDiscoveredSince,
  countReconciledEventsSince,
  webhookReceivedSince,
  latestRetentionRun,
  findDestinationsHolding,
  findForwardBacklogs,
} from './alert-conditions.repository';
export type { DestinationBacklog, DestinationHolding, LatestRetentionRun } from './alert-conditions.repository';
export {
  applyAlertCheck,
  findActiveAlerts,
  queueDailySummary,
  dailySummaryQueued,
  claimAlertMessages,
  markAlertMessageSent,
  markAlertMessageFailed,
  deleteOldAlertMessages,
} from './notification.repository';
export type {
  AlertChannel,
  AlertMessage,
  AlertMessageKind,
  AlertState,
  AlertTransition,
  ApplyAlertsOptions,
  FiringAlert,
  NewAlertMessage,
} from './notification.repository';
export { findPendingPage, oldestPendingEventId } from './sweep.repository';
export type { PendingRow } from './sweep.repository';
