import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export type WebhookEventStatus = 'pending' | 'processed' | 'failed' | 'skipped';
export type WebhookEventSource = 'webhook' | 'reconcile' | 'replay';
export const FINAL_STATUSES: readonly WebhookEventStatus[] = ['processed', 'failed', 'skipped'];

export interface WebhookEventTable {
  /** bigserial; pg returns int8 as a string. */
  id: Generated<string>;
  provider: Generated<string>;
  event_type: string;
  /** The call (Retell's call_id); null for a chat's event or one without a subject. */
  call_id: string | null;
  /** The chat (Retell's chat_id) of a chat event. */
  chat_id: string | null;
  /**
   * @deprecated The old name of call_id, kept equal to it by a trigger until a later migration drops
   * it (see migration 0006); for a chat row it holds the chat id. Read and write call_id / chat_id.
   */
  event_id: ColumnType<string | null, string | undefined, string | undefined>;
  dedupe_key: string;
  payload: ColumnType<unknown, string, string>;
  raw_body: Buffer | null;
  signature: string | null;
  status: Generated<WebhookEventStatus>;
  attempts: Generated<number>;
  delivery_count: Generated<number>;
  error: string | null;
  source: Generated<WebhookEventSource>;
  created_at: Generated<Date>;
  last_delivered_at: Generated<Date>;
  processed_at: Date | null;
  replay_count: Generated<number>;
  last_replayed_at: Date | null;
  pruned_at: Date | null;
  /** transcript_updated: the length of the transcript kept; a snapshot only replaces a shorter one. */
  snapshot_size: number | null;
  /** What callsync answered, for an event answered in the request (the inbound webhook). */
  answer: ColumnType<unknown, string | null | undefined, string | null>;
}

export type WebhookEvent = Selectable<WebhookEventTable>;
export type NewWebhookEvent = Insertable<WebhookEventTable>;
