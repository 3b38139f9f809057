import type { ColumnType, Generated, Selectable } from 'kysely';

export type ChatStatus = 'ongoing' | 'ended' | 'error';

type Json = ColumnType<unknown, string | null, string | null>;
type BigNumber = ColumnType<string | null, number | string | null, number | string | null>;

/** One row per Retell chat (chat agents: api_chat, sms_chat), kept like a call session. */
export interface ChatSessionTable {
  id: Generated<string>;
  chat_id: string;
  agent_id: string | null;
  agent_version: number | null;
  company_id: BigNumber;
  chat_type: string | null;
  chat_status: ColumnType<ChatStatus, ChatStatus | undefined, ChatStatus>;
  started_at: Date | null;
  ended_at: Date | null;
  transcript: string | null;
  analysis: Json;
  analyzed_at: Date | null;
  chat_successful: boolean | null;
  user_sentiment: string | null;
  chat_summary: string | null;
  custom_analysis_data: Json;
  cost_cents: BigNumber;
  chat_cost: Json;
  metadata: Json;
  retell_llm_dynamic_variables: Json;
  collected_dynamic_variables: Json;
  lifecycle_rank: ColumnType<number, number | undefined, number>;
  last_event_at: Date | null;
  reconcile_checked_at: Date | null;
  reconcile_not_found_count: Generated<number>;
  reconcile_failure_count: Generated<number>;
  /** Checks of an ended chat that found no analysis yet at Retell (migration 0025). */
  reconcile_analysis_checks: Generated<number>;
  reconcile_stopped_at: Date | null;
  pii_pruned_at: Date | null;
  /** Set by make forget: the personal data is gone, and later deliveries are not applied. */
  erased_at: ColumnType<Date | null, never, never>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type ChatSession = Selectable<ChatSessionTable>;
