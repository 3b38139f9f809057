import type { Db } from '@callsync/db';
import type { WebhookEventSource } from '@callsync/db/events';

/** A stored event as handlers see it. */
export interface StoredEvent {
  rowId: string;
  eventType: string;
  /** The call (call events) or the chat (chat events); both null for an event without a subject. */
  callId: string | null;
  chatId: string | null;
  payload: unknown;
  /** When callsync first received it. */
  receivedAt: Date;
  source: WebhookEventSource;
  /** The row's dedupe key: the same event from Retell's API has `apiDedupeKey` of it. */
  dedupeKey: string;
}

/**
 * Applies one event to the call record. Runs inside the transaction that marks the event
 * processed, so it must only use `db` it is given: the worker may run it more than once for one
 * attempt (a batch that rolled back is retried row by row), and only what commits counts.
 * Throw PermanentEventError for bad data.
 */
export type EventHandler = ((db: Db, event: StoredEvent) => Promise<HandlerResult>) & {
  /** Optional: apply many events in one go (same result as one by one, fewer round trips). */
  batch?: (db: Db, events: readonly StoredEvent[]) => Promise<HandlerResult>;
};

/** An event stored but not applied after all, and why. */
export interface SkippedEvent {
  rowId: string;
  why: string;
  /** Remove its payload too: its call or chat was erased (make forget). */
  prune?: boolean;
}

/**
 * Events of the batch that were not applied: ones that carried nothing new (the same event was
 * already applied from the other source, Retell's webhook or its API, and this one changed nothing),
 * and ones of an erased call or chat. They are marked `skipped` and not forwarded. Nothing (void)
 * means all were applied.
 */
export type HandlerResult = readonly SkippedEvent[] | void;

/** Event type -> handler. Types without a handler are stored and marked `skipped`. */
export type HandlerRegistry = Readonly<Record<string, EventHandler>>;
