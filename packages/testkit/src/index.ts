export { freePort } from './ports';
export { LocalServices } from './local-services';
export { ManagedProcess } from './managed-process';
export { runChaos, formatChaos, INGRESS_RSS_BUDGET_BYTES } from './chaos/chaos';
export type { ChaosOptions, ChaosResult } from './chaos/chaos';
export { LocalPrometheus } from './local-prometheus';
export type { PrometheusAlert, PrometheusTarget } from './local-prometheus';
// packages/db's test and bench helpers (whole-table reads, a stalled table, bench seeding, query plans).
export {
  agentFunctionStatsQuery,
  agentVersionStatsQuery,
  agentVersionsPerDayQuery,
  callSearchQuery,
  callsPerDayQuery,
  completeCallIdBackfill,
  createDatabase,
  e2eMedianIntervalsQuery,
  eventSearchQuery,
  eventsPerMinuteQuery,
  findAllCallSessions,
  findAllChatSessions,
  findAllWebhookEvents,
  holdWebhookEventsLock,
  listAgentVersionsQuery,
  notifyCallStarted,
  processedSince,
  processingLatency,
  reportQuery,
  seedPendingEventsForBench,
} from '@callsync/db/testing';
export { probedDb, type PoolProbe } from './bench/pool-probe';
