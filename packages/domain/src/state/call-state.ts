import type { CallSessionValues, CallStatus } from '@callsync/db/sessions';
import type { RetellCall } from '../events/call';
import { isLifecycleEvent, type LifecycleEvent } from '../events/event-types';
import type { CallTransfer } from './transfers';
import { dateOf, forwardStatus, mergeRanked, outranks } from './ranked-merge';

/**
 * The call state machine (rules shared with chats in ranked-merge.ts): status only moves forward,
 * `in_progress` -> `ended` | `error` | `not_connected`; fields come from the highest-ranked event; the
 * newest analysis wins. Events during the call (transcript_updated, transfers) rank like call_started
 * and bring the live transcript, which only ever grows until call_ended's final transcript replaces
 * it for good.
 *
 * (One order-dependence remains by construction: if the highest-ranked event lacks a field that two
 * lower-ranked events carry with different values. Retell's later events carry the whole call, so
 * this does not occur with its payloads.)
 */

export const LIFECYCLE_RANK: Record<LifecycleEvent, number> = { call_started: 1, call_ended: 2, call_analyzed: 3 };
/** transcript_updated and transfer events: the call is live, as after call_started. */
const LIVE_RANK = 1;

/** A session as the state machine sees it: the columns it writes (db's CallSessionValues). */
export interface SessionState extends Omit<CallSessionValues, 'transfers'> {
  /** Not merged from patches: rebuilt from the call's transfer events (transfers.ts). */
  transfers: CallTransfer[];
}

/** What one event says about its call; null fields say nothing. */
export interface SessionPatch extends Omit<
  SessionState,
  'lifecycle_rank' | 'last_event_at' | 'transcript_final' | 'transfers'
> {
  rank: number;
  observedAt: Date;
  /** The transcript is the call's final one (call_ended, call_analyzed), not a live snapshot. */
  transcriptFinal: boolean;
}

function terminalStatus(status: string | null | undefined): CallStatus {
  if (status === 'error' || status === 'not_connected') return status;
  return 'ended';
}

/**
 * Translate an event of a call into a patch. `observedAt` is when callsync received it; a
 * call_started (or live event) without `start_timestamp` takes it as the start, so the session can
 * still go stale.
 */
export function patchFromEvent(
  event: string,
  call: RetellCall,
  observedAt: Date,
  companyId: string | null,
): SessionPatch {
  const lifecycle = isLifecycleEvent(event);
  const rank = lifecycle ? LIFECYCLE_RANK[event] : LIVE_RANK;
  const live = rank === LIVE_RANK;
  const start = call.start_timestamp ?? null;
  const end = call.end_timestamp ?? null;
  const duration = call.duration_ms ?? (start !== null && end !== null && end >= start ? end - start : null);
  const derivedStart = start ?? (end !== null && call.duration_ms != null ? end - call.duration_ms : null);
  const analysis = event === 'call_analyzed' || call.call_analysis ? (call.call_analysis ?? null) : null;
  return {
    rank,
    observedAt,
    agent_id: call.agent_id ?? null,
    agent_version: call.agent_version ?? null,
    company_id: companyId,
    call_type: call.call_type ?? null,
    direction: call.direction ?? null,
    from_number: call.from_number ?? null,
    to_number: call.to_number ?? null,
    call_status: live ? 'in_progress' : terminalStatus(call.call_status),
    started_at: dateOf(derivedStart) ?? (live ? observedAt : null),
    ended_at: live ? null : dateOf(end),
    duration_ms: live ? null : duration,
    disconnection_reason: call.disconnection_reason ?? null,
    analysis,
    analyzed_at: analysis ? observedAt : null,
    transcript: call.transcript ?? null,
    transcriptFinal: !live,
    recording_url: call.recording_url ?? null,
    cost_cents: call.call_cost?.combined_cost ?? null,
    call_cost: call.call_cost ?? null,
    metadata: call.metadata ?? null,
    telephony_identifier: call.telephony_identifier ?? null,
    retell_llm_dynamic_variables: call.retell_llm_dynamic_variables ?? null,
    collected_dynamic_variables: call.collected_dynamic_variables ?? null,
    latency: call.latency ?? null,
    llm_token_usage: call.llm_token_usage ?? null,
  };
}

const FIELDS = [
  'agent_id',
  'agent_version',
  'company_id',
  'call_type',
  'direction',
  'from_number',
  'to_number',
  'started_at',
  'ended_at',
  'duration_ms',
  'disconnection_reason',
  'recording_url',
  'cost_cents',
  'call_cost',
  'metadata',
  'telephony_identifier',
  'retell_llm_dynamic_variables',
  'collected_dynamic_variables',
  'latency',
  'llm_token_usage',
] as const satisfies readonly (keyof SessionState & keyof SessionPatch)[];

/** The columns of retell_call_sessions that the state machine owns. */
export const SESSION_STATE_KEYS = [
  ...FIELDS,
  'analysis',
  'analyzed_at',
  'transcript',
  'transcript_final',
  'transfers',
  'call_status',
  'lifecycle_rank',
  'last_event_at',
] as const satisfies readonly (keyof SessionState)[];

export function emptySession(): SessionState {
  return {
    ...(Object.fromEntries(FIELDS.map((f) => [f, null])) as Pick<SessionState, (typeof FIELDS)[number]>),
    analysis: null,
    analyzed_at: null,
    transcript: null,
    transcript_final: false,
    transfers: [],
    call_status: 'in_progress',
    lifecycle_rank: 0,
    last_event_at: null,
  };
}

/**
 * The transcript: a final one (call_ended, call_analyzed) replaces a live one and then stays, unless
 * an outranking final one comes; a live snapshot only replaces a shorter live one (equal lengths:
 * the larger text, so the order of arrival never matters).
 */
function mergeTranscript(
  cur: SessionState,
  patch: SessionPatch,
  newer: boolean,
): Pick<SessionState, 'transcript' | 'transcript_final'> {
  const theirs = patch.transcript;
  if (theirs === null) return cur;
  if (patch.transcriptFinal) {
    if (!cur.transcript_final || newer) return { transcript: theirs, transcript_final: true };
    return cur;
  }
  if (cur.transcript_final) return cur;
  const mine = cur.transcript;
  if (mine === null || theirs.length > mine.length || (theirs.length === mine.length && theirs > mine))
    return { transcript: theirs, transcript_final: false };
  return cur;
}

/** Apply a patch to the current session (null: no session yet). Pure; see the rules above. */
export function mergeSession(current: SessionState | null, patch: SessionPatch): SessionState {
  const cur = current ?? emptySession();
  const newer = outranks(cur, patch);
  const next = mergeRanked(cur, patch, FIELDS);
  const transcript = mergeTranscript(cur, patch, newer);
  next.transcript = transcript.transcript;
  next.transcript_final = transcript.transcript_final;
  next.call_status = forwardStatus(cur.call_status, patch.call_status, 'in_progress', newer);
  return next;
}
