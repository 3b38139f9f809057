/** @callsync/db/reconcile: Reconciliation and the completeness audit: stale subjects, checks, runs, watermarks, audit runs. */
export type { ReconcileRun } from '../reconcile-run.table';
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
} from '../reconcile.repository';
export type {
  ChatToReconcile,
  SessionCursor,
  SessionToReconcile,
  SubjectTable,
  SubjectToReconcile,
  ReconcileCheck,
  ReconcileCounts,
} from '../reconcile.repository';
export type { AuditGapReason, AuditGapRecord, AuditRun } from '../audit-run.table';
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
} from '../audit.repository';
export type { AuditedSession, CompanyAuditCounts, NewAuditRun, UnforwardedEvent } from '../audit.repository';
