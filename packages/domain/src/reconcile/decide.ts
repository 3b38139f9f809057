import type { ReconcileCheck } from '@callsync/db/reconcile';
import type { ChatEvent, LifecycleEvent } from '../events/event-types';
import { isCallFinished, isChatFinished, type CallLookupResult, type ChatLookupResult } from '../events/provider';

export type CallOutcome = 'ended' | 'ongoing' | 'not_found' | 'analyzed' | 'no_analysis' | 'failed' | 'discovered';

/**
 * `stale`: an in_progress call; `analysis`: a finished call still without analysis; `requested`: --call-id;
 * `discovered`: listed at Retell, unknown to callsync.
 */
export type CheckReason = 'stale' | 'analysis' | 'requested' | 'discovered';

/** What is checked: a call, or a chat (ongoing chats only). */
export type Subject = 'call' | 'chat';

/** What one answer from Retell means for the session, and what to write. */
export interface Decision {
  outcome: Exclude<CallOutcome, 'failed' | 'discovered'>;
  /** Retell's status, or the HTTP status of "not found". */
  detail: string;
  /** Events to apply from Retell's call object, through the webhook handlers, in this order. */
  apply: LifecycleEvent[];
  /** The check to record on the session (counting not-found answers, checks without analysis). */
  record?: ReconcileCheck;
}

/**
 * The pure half of a reconciliation check: Retell's answer about one call, and why it was asked,
 * become an outcome and the writes it calls for. Nothing here touches the database.
 */
export function decide(reason: CheckReason, result: CallLookupResult): Decision {
  if (!result.found) return { outcome: 'not_found', detail: `HTTP ${result.status}`, apply: [], record: 'not_found' };
  const { call } = result;
  const detail = call.call_status;
  const finished = isCallFinished(call.call_status);
  // Asked for its analysis (or by id, and Retell has all of it): the analysis is what matters.
  if (reason === 'analysis' || (reason === 'requested' && finished && call.call_analysis)) {
    if (!call.call_analysis) return { outcome: 'no_analysis', detail, apply: [], record: 'no_analysis' };
    return reason === 'analysis'
      ? { outcome: 'analyzed', detail, apply: ['call_analyzed'] }
      : { outcome: 'ended', detail, apply: ['call_ended', 'call_analyzed'] };
  }
  if (finished) {
    const apply: LifecycleEvent[] = call.call_analysis ? ['call_ended', 'call_analyzed'] : ['call_ended'];
    return { outcome: 'ended', detail, apply, record: 'checked' };
  }
  return { outcome: 'ongoing', detail, apply: [], record: 'checked' };
}

export interface ChatDecision {
  outcome: 'ended' | 'ongoing' | 'not_found' | 'analyzed' | 'no_analysis';
  detail: string;
  /** Events to apply from Retell's chat object, in this order. */
  apply: ChatEvent[];
  /** The check to record; none when the apply itself takes the chat off the list (its analysis arrived). */
  record?: 'checked' | 'not_found' | 'no_analysis';
}

/**
 * Retell's answer about a chat. `stale` (an ongoing chat): ended (apply it, with its analysis if
 * there), still ongoing, or unknown. `analysis` (an ended chat without analysis): its chat_analyzed,
 * or a check without analysis counted towards giving up.
 */
export function decideChat(result: ChatLookupResult, reason: CheckReason = 'stale'): ChatDecision {
  if (!result.found) return { outcome: 'not_found', detail: `HTTP ${result.status}`, apply: [], record: 'not_found' };
  const { chat } = result;
  const detail = chat.chat_status;
  if (reason === 'analysis')
    return chat.chat_analysis
      ? { outcome: 'analyzed', detail, apply: ['chat_analyzed'] }
      : { outcome: 'no_analysis', detail, apply: [], record: 'no_analysis' };
  if (!isChatFinished(chat.chat_status)) return { outcome: 'ongoing', detail, apply: [], record: 'checked' };
  const apply: ChatEvent[] = chat.chat_analysis ? ['chat_ended', 'chat_analyzed'] : ['chat_ended'];
  return { outcome: 'ended', detail, apply, record: 'checked' };
}
