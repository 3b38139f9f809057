import type { ColumnType, Generated, Selectable } from 'kysely';

/** numeric comes back from pg as a string; we write numbers. */
type Days = ColumnType<string, number, number>;

export interface RetentionRunTable {
  id: Generated<string>;
  started_at: Generated<Date>;
  finished_at: Date | null;
  /** The policy the run applied. */
  payload_days: Days;
  event_row_days: Days;
  session_pii_days: Days;
  /** Null on runs from before migration 0018. */
  failed_payload_days: ColumnType<string | null, number, number>;
  payloads_pruned: Generated<number>;
  event_rows_deleted: Generated<number>;
  sessions_pii_pruned: Generated<number>;
  reconcile_runs_deleted: Generated<number>;
  failed_payloads_pruned: Generated<number>;
  function_calls_pruned: Generated<number>;
  transfer_events_pruned: Generated<number>;
  deliveries_expired: Generated<number>;
  error: string | null;
}

export type RetentionRun = Selectable<RetentionRunTable>;
