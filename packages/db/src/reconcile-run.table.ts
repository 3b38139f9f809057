import type { Generated, Selectable } from 'kysely';

export interface ReconcileRunTable {
  id: Generated<string>;
  trigger: 'scheduled' | 'manual';
  /** host:pid of the process that ran the pass. */
  runner: string;
  started_at: Generated<Date>;
  finished_at: Date | null;
  found: Generated<number>;
  ended: Generated<number>;
  ongoing: Generated<number>;
  not_found: Generated<number>;
  analyzed: Generated<number>;
  failed: Generated<number>;
  error: string | null;
}

export type ReconcileRun = Selectable<ReconcileRunTable>;
