import type { ColumnType, Generated, Selectable } from 'kysely';

export type FunctionCallStatus = 'running' | 'ok' | 'bad_args' | 'error' | 'timeout';

/** One invocation of a custom function by Retell during a call. */
export interface FunctionCallTable {
  id: Generated<string>;
  call_id: string | null;
  name: string;
  args: ColumnType<unknown, string, string>;
  invocation_key: string;
  status: ColumnType<FunctionCallStatus, FunctionCallStatus | undefined, FunctionCallStatus>;
  /** What the agent read, truncated to 15,000 characters. */
  result: string | null;
  error: string | null;
  duration_ms: number | null;
  replays: Generated<number>;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

export type FunctionCall = Selectable<FunctionCallTable>;
