import type { ColumnType, Generated, Selectable } from 'kysely';

export type CallStatus = 'in_progress' | 'ended' | 'error' | 'not_connected';

type Json = ColumnType<unknown, string | null, string | null>;
/** int8/numeric come back from pg as strings; we write numbers. */
type BigNumber = ColumnType<string | null, number | string | null, number | string | null>;

export interface CallSessionTable {
  id: Generated<string>;
  call_id: string;
  agent_id: string | null;
  agent_version: number | null;
  company_id: BigNumber;
  call_type: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  /** The caller ID was suppressed (from_number "anonymous"). Web calls have no number and are not. */
  caller_withheld: ColumnType<boolean, never, never>;
  /** The older name of caller_withheld, the same value (kept for existing queries). */
  caller_anonymous: ColumnType<boolean, never, never>;
  call_status: ColumnType<CallStatus, CallStatus | undefined, CallStatus>;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: BigNumber;
  disconnection_reason: string | null;
  analysis: Json;
  analyzed_at: Date | null;
  transcript: string | null;
  recording_url: string | null;
  cost_cents: BigNumber;
  call_cost: Json;
  metadata: Json;
  /** Copied out of analysis: queryable, and kept when retention prunes payloads. */
  call_successful: boolean | null;
  user_sentiment: string | null;
  in_voicemail: boolean | null;
  call_summary: string | null;
  custom_analysis_data: Json;
  /** e.g. {"twilio_call_sid": "CA..."} */
  telephony_identifier: Json;
  retell_llm_dynamic_variables: Json;
  collected_dynamic_variables: Json;
  latency: Json;
  llm_token_usage: Json;
  /** The transcript is call_ended's (or call_analyzed's); live snapshots no longer replace it. */
  transcript_final: ColumnType<boolean, boolean | undefined, boolean>;
  /** Each transfer in order (see CallTransfer in @callsync/domain). */
  transfers: ColumnType<unknown, string | undefined, string>;
  fields_version: ColumnType<number | null, number | undefined, number>;
  lifecycle_rank: ColumnType<number, number | undefined, number>;
  last_event_at: Date | null;
  reconcile_checked_at: Date | null;
  reconcile_not_found_count: Generated<number>;
  reconcile_failure_count: Generated<number>;
  reconcile_stopped_at: Date | null;
  reconcile_analysis_checks: Generated<number>;
  /** Salted hash of the customer's number, kept when SESSION_PII_RETENTION_DAYS removed the numbers. */
  caller_hash: ColumnType<string | null, never, never>;
  pii_pruned_at: ColumnType<Date | null, never, never>;
  /** Set by make forget: the personal data is gone, and later deliveries are not applied. */
  erased_at: ColumnType<Date | null, never, never>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type CallSession = Selectable<CallSessionTable>;
