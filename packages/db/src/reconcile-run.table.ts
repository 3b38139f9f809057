import type { ColumnType, Generated, Selectable } from 'kysely';

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
  /** Calls and chats found at Retell that callsync had no session for. */
  discovered: Generated<number>;
  error: string | null;
}

export type ReconcileRun = Selectable<ReconcileRunTable>;

export interface DiscoveryWatermarkTable {
  kind: 'calls' | 'chats';
  /** Everything that started before this (ms epoch) has been listed; pg returns int8 as a string. */
  listed_until_ms: ColumnType<string, number | string, number | string>;
  updated_at: Generated<Date>;
}
