import type { ColumnType, Generated, Selectable } from 'kysely';

/** One erasure request (make forget): what it removed. It holds no number. */
export interface ErasureTable {
  id: Generated<string>;
  scope: 'caller' | 'call';
  local_only: boolean;
  started_at: Generated<Date>;
  finished_at: Date | null;
  /** Rows changed per table. */
  removed: ColumnType<Record<string, number>, string | undefined, string>;
  retell_deleted: Generated<number>;
  retell_failed: Generated<number>;
}

export type Erasure = Selectable<ErasureTable>;
