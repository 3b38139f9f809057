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
  payloads_pruned: Generated<number>;
  event_rows_deleted: Generated<number>;
  sessions_pii_pruned: Generated<number>;
  reconcile_runs_deleted: Generated<number>;
  error: string | null;
}

export type RetentionRun = Selectable<RetentionRunTable>;
