import { CALL_EVENTS, CHAT_EVENTS } from '../events/event-types';
import { applyCallEvents } from './call.handler';
import { applyChatEvents } from './chat.handler';
import type { EventHandler, HandlerRegistry } from './handler';

/** A handler that applies a batch of events; one event is a batch of one. */
function batchHandler(batch: NonNullable<EventHandler['batch']>): EventHandler {
  return Object.assign((db: Parameters<EventHandler>[0], event: Parameters<EventHandler>[1]) => batch(db, [event]), {
    batch,
  });
}

const calls = batchHandler(applyCallEvents);
const chats = batchHandler(applyChatEvents);

/**
 * Every event Retell documents has a handler; anything else is stored and `skipped`. Batches run in
 * this order (calls, then chats), so concurrent transactions lock the two tables in the same order.
 */
export const defaultHandlers: HandlerRegistry = Object.freeze({
  ...Object.fromEntries(CALL_EVENTS.map((e) => [e, calls])),
  ...Object.fromEntries(CHAT_EVENTS.map((e) => [e, chats])),
});

export type { EventHandler, HandlerRegistry, StoredEvent } from './handler';
