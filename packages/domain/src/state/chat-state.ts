import type { ChatSessionValues } from '@callsync/db/sessions';
import type { RetellChat } from '../events/chat';
import type { ChatEvent } from '../events/event-types';
import { dateOf, forwardStatus, mergeRanked, outranks } from './ranked-merge';

/**
 * The chat state machine: the call's rules (ranked-merge.ts) with `ongoing` -> `ended` | `error`.
 * chat_started ranks 1, chat_ended 2, chat_analyzed 3; every arrival order of the same events gives
 * the same row, and the newest analysis (a re-run) wins.
 */

export const CHAT_RANK: Record<ChatEvent, number> = { chat_started: 1, chat_ended: 2, chat_analyzed: 3 };
/** A chat agent's transcript_updated: the chat is live, as after chat_started. */
const LIVE_RANK = 1;

/** A chat as the state machine sees it: the columns it writes (db's ChatSessionValues). */
export type ChatState = ChatSessionValues;

export interface ChatPatch extends Omit<ChatState, 'lifecycle_rank' | 'last_event_at'> {
  rank: number;
  observedAt: Date;
}

const FIELDS = [
  'agent_id',
  'agent_version',
  'company_id',
  'chat_type',
  'started_at',
  'ended_at',
  'transcript',
  'cost_cents',
  'chat_cost',
  'metadata',
  'retell_llm_dynamic_variables',
  'collected_dynamic_variables',
] as const satisfies readonly (keyof ChatState & keyof ChatPatch)[];

export const CHAT_STATE_KEYS = [
  ...FIELDS,
  'analysis',
  'analyzed_at',
  'chat_status',
  'lifecycle_rank',
  'last_event_at',
] as const satisfies readonly (keyof ChatState)[];

/**
 * A chat event as a patch; a chat_started (or transcript_updated) without start_timestamp takes the
 * receipt time as its start.
 */
export function chatPatchFromEvent(
  event: ChatEvent | 'transcript_updated',
  chat: RetellChat,
  observedAt: Date,
  companyId: string | null,
): ChatPatch {
  const started = event === 'chat_started' || event === 'transcript_updated';
  const analysis = event === 'chat_analyzed' || chat.chat_analysis ? (chat.chat_analysis ?? null) : null;
  return {
    rank: event === 'transcript_updated' ? LIVE_RANK : CHAT_RANK[event],
    observedAt,
    agent_id: chat.agent_id ?? null,
    agent_version: chat.version ?? null,
    company_id: companyId,
    chat_type: chat.chat_type ?? null,
    chat_status: started ? 'ongoing' : chat.chat_status === 'error' ? 'error' : 'ended',
    started_at: dateOf(chat.start_timestamp) ?? (started ? observedAt : null),
    ended_at: dateOf(chat.end_timestamp),
    transcript: chat.transcript ?? null,
    analysis,
    analyzed_at: analysis ? observedAt : null,
    cost_cents: chat.chat_cost?.combined_cost ?? null,
    chat_cost: chat.chat_cost ?? null,
    metadata: chat.metadata ?? null,
    retell_llm_dynamic_variables: chat.retell_llm_dynamic_variables ?? null,
    collected_dynamic_variables: chat.collected_dynamic_variables ?? null,
  };
}

export function emptyChat(): ChatState {
  return {
    ...(Object.fromEntries(FIELDS.map((f) => [f, null])) as Pick<ChatState, (typeof FIELDS)[number]>),
    analysis: null,
    analyzed_at: null,
    chat_status: 'ongoing',
    lifecycle_rank: 0,
    last_event_at: null,
  };
}

/**
 * Apply a patch to the current chat (null: none yet). Pure. As for calls, a live transcript only
 * replaces a shorter live one (equal lengths: the larger text), and never the final one.
 */
export function mergeChat(current: ChatState | null, patch: ChatPatch): ChatState {
  const cur = current ?? emptyChat();
  const next = mergeRanked(cur, patch, FIELDS);
  const mine = cur.transcript;
  const theirs = patch.transcript;
  if (patch.rank === LIVE_RANK && cur.lifecycle_rank <= LIVE_RANK && mine !== null && theirs !== null)
    next.transcript = theirs.length > mine.length || (theirs.length === mine.length && theirs > mine) ? theirs : mine;
  next.chat_status = forwardStatus(cur.chat_status, patch.chat_status, 'ongoing', outranks(cur, patch));
  return next;
}
