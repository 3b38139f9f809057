import { lockChatSessions, updateChatSessions, type ChatSession } from '@callsync/db';
import { parseChat } from '../events/chat';
import { isChatEvent } from '../events/event-types';
import { PermanentEventError } from '../errors';
import { CHAT_STATE_KEYS, chatPatchFromEvent, mergeChat, type ChatState } from '../state/chat-state';
import { resolveCompany } from './tenant-cache';
import type { EventHandler, StoredEvent } from './handler';

function toState(row: ChatSession): ChatState {
  return Object.fromEntries(CHAT_STATE_KEYS.map((k) => [k, row[k]])) as unknown as ChatState;
}

/** chat_started / chat_ended / chat_analyzed -> retell_chat_sessions, like calls: lock all, merge, write back. */
export const applyChatEvents = async (db: Parameters<EventHandler>[0], events: readonly StoredEvent[]) => {
  const patches = [];
  for (const e of events) {
    if (!isChatEvent(e.eventType)) throw new PermanentEventError(`not a chat event: ${e.eventType}`);
    const chat = parseChat(e.payload);
    const companyId = await resolveCompany(db, { agent_id: chat.agent_id });
    patches.push({ chatId: chat.chat_id, patch: chatPatchFromEvent(e.eventType, chat, e.receivedAt, companyId) });
  }
  const sessions = await lockChatSessions(
    db,
    patches.map((p) => p.chatId),
  );
  const state = new Map(sessions.map((s) => [s.chat_id, toState(s)]));
  for (const { chatId, patch } of patches) state.set(chatId, mergeChat(state.get(chatId)!, patch));
  await updateChatSessions(
    db,
    [...state].map(([chatId, values]) => ({ chatId, values })),
  );
};
