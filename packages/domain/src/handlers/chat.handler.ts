import { lockChatSessions, updateChatSessions, type ChatSession } from '@callsync/db/sessions';
import { parseChat } from '../events/chat';
import { isChatEvent } from '../events/event-types';
import { PermanentEventError } from '../errors';
import { CHAT_STATE_KEYS, chatPatchFromEvent, mergeChat, type ChatState } from '../state/chat-state';
import { resolveCompany } from './tenant-cache';
import type { EventHandler, HandlerResult, StoredEvent } from './handler';
import { mergePatches } from './nothing-new';

function toState(row: ChatSession): ChatState {
  return Object.fromEntries(CHAT_STATE_KEYS.map((k) => [k, row[k]])) as unknown as ChatState;
}

/**
 * chat_started / chat_ended / chat_analyzed, and a chat agent's transcript_updated ->
 * retell_chat_sessions, like calls: lock all, merge, write back.
 */
export const applyChatEvents = async (
  db: Parameters<EventHandler>[0],
  events: readonly StoredEvent[],
): Promise<HandlerResult> => {
  const patches: { event: StoredEvent; chatId: string; patch: ReturnType<typeof chatPatchFromEvent> }[] = [];
  for (const e of events) {
    const type = e.eventType;
    if (!isChatEvent(type) && type !== 'transcript_updated') throw new PermanentEventError(`not a chat event: ${type}`);
    const chat = parseChat(e.payload);
    const companyId = await resolveCompany(db, { agent_id: chat.agent_id });
    patches.push({
      event: e,
      chatId: chat.chat_id,
      patch: chatPatchFromEvent(type, chat, e.receivedAt, companyId),
    });
  }
  const sessions = await lockChatSessions(
    db,
    patches.map((p) => p.chatId),
  );
  const state = new Map(sessions.map((s) => [s.chat_id, toState(s)]));
  const { skipped, touched } = await mergePatches(
    db,
    patches.map((p) => ({ event: p.event, id: p.chatId, patch: p.patch })),
    { state, erased: new Set(sessions.filter((s) => s.erased_at !== null).map((s) => s.chat_id)) },
    { merge: mergeChat, isLifecycle: isChatEvent },
  );
  await updateChatSessions(
    db,
    [...touched].map((chatId) => ({ chatId, values: state.get(chatId)! })),
  );
  return skipped;
};
