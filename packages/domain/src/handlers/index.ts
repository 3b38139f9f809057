import { CALL_EVENTS, CHAT_EVENTS } from '../events/event-types';
import { applyCallEvents } from './call.handler';
import { applyChatEvents } from './chat.handler';
import type { EventHandler, HandlerRegistry, SkippedEvent, StoredEvent } from './handler';

/**
 * Every event of a call or a chat, in one batch: calls first, then chats, so concurrent transactions
 * lock the two tables in the same order. An event is a chat's when its row names a chat (chat
 * events, and a chat agent's transcript_updated, whose body carries `chat` and no `call`).
 */
async function applySubjectEvents(db: Parameters<EventHandler>[0], events: readonly StoredEvent[]) {
  const calls = events.filter((e) => e.chatId === null);
  const chats = events.filter((e) => e.chatId !== null);
  const skipped: SkippedEvent[] = [];
  if (calls.length) skipped.push(...((await applyCallEvents(db, calls)) ?? []));
  if (chats.length) skipped.push(...((await applyChatEvents(db, chats)) ?? []));
  return skipped;
}

const subjects: EventHandler = Object.assign(
  (db: Parameters<EventHandler>[0], event: StoredEvent) => applySubjectEvents(db, [event]),
  { batch: applySubjectEvents },
);

/** Every event Retell documents has a handler; anything else is stored and `skipped`. */
export const defaultHandlers: HandlerRegistry = Object.freeze(
  Object.fromEntries([...CALL_EVENTS, ...CHAT_EVENTS].map((e) => [e, subjects])),
);

export type { EventHandler, HandlerRegistry, HandlerResult, SkippedEvent, StoredEvent } from './handler';
