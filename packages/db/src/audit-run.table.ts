import type { ColumnType, Generated, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string | undefined, string>;

/** Why a call or chat Retell listed is not complete here (see @callsync/domain's audit). */
export type AuditGapReason = 'no_session' | 'not_final' | 'not_analyzed' | 'not_forwarded';

/** One gap as an audit run keeps it. */
export interface AuditGapRecord {
  subject: 'call' | 'chat';
  id: string;
  reason: AuditGapReason;
  detail?: string;
  /** Older than the run's grace period. */
  overdue: boolean;
}

/** One company's part of one audit run (migration 0022). */
export interface AuditRunTable {
  id: Generated<string>;
  /** Rows of the same run share it. */
  run_id: string;
  trigger: 'scheduled' | 'manual';
  /** The company's id, or `unmapped` (calls no company owns). */
  company: string;
  company_name: string | null;
  window_start: Date;
  window_end: Date;
  grace_seconds: number;
  listed: number;
  complete: number;
  in_flight: number;
  gaps: number;
  /** Gaps older than the grace period. */
  overdue: number;
  /** Gaps per reason. */
  gap_reasons: Json<Partial<Record<AuditGapReason, number>>>;
  /** Gaps older than the grace period, per reason (what callsync_audit_gaps exports). */
  overdue_reasons: Json<Partial<Record<AuditGapReason, number>>>;
  /** The gaps by id (at most AUDIT_GAPS_KEPT of them). */
  gap_list: Json<AuditGapRecord[]>;
  finished_at: Generated<Date>;
}

export type AuditRun = Selectable<AuditRunTable>;
