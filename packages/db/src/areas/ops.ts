/** @callsync/db/ops: What the console, the reports, the metrics and the alerts read. */
export {
  countPendingEvents,
  countPendingEventsOfCalls,
  oldestPendingEventSeconds,
  countSessionsStuckInProgress,
  countSessionsGivenUp,
  countChatsStuckOngoing,
  countSessionsByCompany,
  findEventOutcomes,
} from '../monitoring.repository';
export type { CompanySessionCount } from '../monitoring.repository';
export { companySessions, processingRate, staleChats, staleSessions } from '../reports';
export type { CompanySessions, ProcessingRate, StaleChat, StaleSession } from '../reports';
export { callsPerDay, eventsPerMinute, searchCalls, searchEvents } from '../console.repository';
export type {
  CallRow,
  CallSearch,
  DayOutcome,
  EventRow,
  EventSearch,
  Keyset,
  MinuteCount,
} from '../console.repository';
export {
  agentFunctionStats,
  agentVersionHealth,
  agentVersionStats,
  agentVersionsPerDay,
  e2eMedianIntervals,
  listAgentVersions,
} from '../agent-stats.repository';
export type {
  AgentFunctionStats,
  AgentStatsFilter,
  AgentVersionHealth,
  AgentVersionFilter,
  AgentVersionStats,
  AgentVersions,
  MedianInterval,
  VersionDay,
} from '../agent-stats.repository';
export {
  countDiscoveredSince,
  countReconciledEventsSince,
  webhookReceivedSince,
  latestRetentionRun,
  findDestinationsHolding,
  findForwardBacklogs,
} from '../alert-conditions.repository';
export type { DestinationBacklog, DestinationHolding, LatestRetentionRun } from '../alert-conditions.repository';
export {
  applyAlertCheck,
  findActiveAlerts,
  queueDailySummary,
  dailySummaryQueued,
  claimAlertMessages,
  markAlertMessageSent,
  markAlertMessageFailed,
  deleteOldAlertMessages,
} from '../notification.repository';
export type {
  AlertChannel,
  AlertMessage,
  AlertMessageKind,
  AlertState,
  AlertTransition,
  ApplyAlertsOptions,
  FiringAlert,
  NewAlertMessage,
} from '../notification.repository';
