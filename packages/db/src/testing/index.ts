/*
 * @callsync/db/testing: what tests, `make chaos` and `make bench` read and seed, kept out of the
 * production exports (`@callsync/db`). The SQL stays in packages/db; packages/testkit re-exports it.
 */
export { findAllCallSessions, findAllChatSessions, findAllWebhookEvents } from './whole-run';
export { holdWebhookEventsLock } from './stall';
export { createDatabase, processedSince, processingLatency, seedPendingEventsForBench } from './bench';

// Query builders and single-row variants the product uses internally; tests read their plans or call them alone.
export { callSearchQuery, callsPerDayQuery, eventSearchQuery, eventsPerMinuteQuery } from '../console.repository';
export {
  agentFunctionStatsQuery,
  agentVersionStatsQuery,
  agentVersionsPerDayQuery,
  e2eMedianIntervalsQuery,
  listAgentVersionsQuery,
} from '../agent-stats.repository';
export { reportQuery } from '../reports';
export { completeCallIdBackfill } from '../data-migrations';
export { notifyCallStarted } from '../tenant-listener';
