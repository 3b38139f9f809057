/** @callsync/db/sessions: Call and chat sessions: one row per call or chat, its transfers, updated under lock by the workers. */
export type { CallSession, CallStatus } from '../call-session.table';
export {
  findCallSession,
  lockCallSessions,
  recordTransferEvents,
  updateCallSessions,
} from '../call-session.repository';
export type { CallSessionValues, NewTransferEvent } from '../call-session.repository';
export type { CallTransferEvent } from '../call-transfer-event.table';
export type { ChatSession, ChatStatus } from '../chat-session.table';
export { findChatSession, lockChatSessions, updateChatSessions } from '../chat-session.repository';
export type { ChatSessionValues } from '../chat-session.repository';
