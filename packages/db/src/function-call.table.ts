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
  /** Retell's id of the invocation (migration 0024); null in "args only" mode and over GET/DELETE. */
  tool_call_id: string | null;
  /** The agent was given the function's pending message: the result is finished in the background. */
  pending_answered_at: Date | null;
  /** The background result was handed to the agent. */
  delivered_at: Date | null;
  /** The handler still ran at its hard timeout: aborted, its slot freed. */
  abandoned_at: Date | null;
}

export type FunctionCall = Selectable<FunctionCallTable>;
