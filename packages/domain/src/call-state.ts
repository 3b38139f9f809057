import type { CallStatus } from '@callsync/db';
import type { RetellCall } from './events/call';
import type { LifecycleEvent } from './events/event-types';

/**
 * The call state machine. A session is the merge of every lifecycle event seen for its call, and
 * the merge is built so that every arrival order of the same events gives the same session:
 *
 * - status only moves forward: `in_progress` -> `ended` | `error` | `not_connected`;
 * - each event has a lifecycle rank (started 1 < ended 2 < analyzed 3). A field takes the value of
 *   the highest-ranked event that carries it; lower-ranked events only fill fields still empty;
 * - analysis is added whenever it arrives; `last_event_at` and the rank only grow.
 *
 * (One order-dependence remains by construction: if the highest-ranked event lacks a field that two
 * lower-ranked events carry with different values. Retell's later events carry the whole call, so
 * this does not occur with its payloads.)
 */

export const LIFECYCLE_RANK: Record<LifecycleEvent, number> = { call_started: 1, call_ended: 2, call_analyzed: 3 };

export interface SessionState {
  agent_id: string | null;
  agent_version: number | null;
  company_id: string | number | null;
  call_type: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  call_status: CallStatus;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: string | number | null;
  disconnection_reason: string | null;
  analysis: unknown;
  analyzed_at: Date | null;
  transcript: string | null;
  recording_url: string | null;
  cost_cents: string | number | null;
  call_cost: unknown;
  metadata: unknown;
  lifecycle_rank: number;
  last_event_at: Date | null;
}

/** What one event says about its call; undefined/null fields say nothing. */
export interface SessionPatch extends Omit<SessionState, 'lifecycle_rank' | 'last_event_at'> {
  rank: number;
  observedAt: Date;
}

function terminalStatus(status: string | null | undefined): CallStatus {
  if (status === 'error' || status === 'not_connected') return status;
  return 'ended';
}

const date = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms));

/**
 * Translate a lifecycle event into a patch. `observedAt` is when callsync received it; a
 * `call_started` without `start_timestamp` takes it as the start, so the session can still go stale.
 */
export function patchFromEvent(
  event: LifecycleEvent,
  call: RetellCall,
  observedAt: Date,
  companyId: string | null,
): SessionPatch {
  const start = call.start_timestamp ?? null;
  const end = call.end_timestamp ?? null;
  const duration = call.duration_ms ?? (start !== null && end !== null && end >= start ? end - start : null);
  const derivedStart = start ?? (end !== null && call.duration_ms != null ? end - call.duration_ms : null);
  const analysis = event === 'call_analyzed' || call.call_analysis ? (call.call_analysis ?? null) : null;
  return {
    rank: LIFECYCLE_RANK[event],
    observedAt,
    agent_id: call.agent_id ?? null,
    agent_version: call.agent_version ?? null,
    company_id: companyId,
    call_type: call.call_type ?? null,
    direction: call.direction ?? null,
    from_number: call.from_number ?? null,
    to_number: call.to_number ?? null,
    call_status: event === 'call_started' ? 'in_progress' : terminalStatus(call.call_status),
    started_at: date(derivedStart) ?? (event === 'call_started' ? observedAt : null),
    ended_at: date(end),
    duration_ms: duration,
    disconnection_reason: call.disconnection_reason ?? null,
    analysis,
    analyzed_at: analysis ? observedAt : null,
    transcript: call.transcript ?? null,
    recording_url: call.recording_url ?? null,
    cost_cents: call.call_cost?.combined_cost ?? null,
    call_cost: call.call_cost ?? null,
    metadata: call.metadata ?? null,
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
  'analysis',
  'analyzed_at',
  'transcript',
  'recording_url',
  'cost_cents',
  'call_cost',
  'metadata',
] as const satisfies readonly (keyof SessionState & keyof SessionPatch)[];

/** The columns of retell_call_sessions that the state machine owns. */
export const SESSION_STATE_KEYS = [
  ...FIELDS,
  'call_status',
  'lifecycle_rank',
  'last_event_at',
] as const satisfies readonly (keyof SessionState)[];

/** Apply a patch to the current session (null: no session yet). Pure; see the rules above. */
export function mergeSession(current: SessionState | null, patch: SessionPatch): SessionState {
  const cur: SessionState =
    current ??
    ({
      ...Object.fromEntries(FIELDS.map((f) => [f, null])),
      call_status: 'in_progress',
      lifecycle_rank: 0,
      last_event_at: null,
    } as SessionState);
  const newer = patch.rank >= cur.lifecycle_rank;
  const next = { ...cur } as Record<string, unknown>;
  for (const f of FIELDS) {
    const mine = cur[f] ?? null;
    const theirs = patch[f] ?? null;
    next[f] = newer ? (theirs ?? mine) : (mine ?? theirs);
  }
  next.call_status =
    cur.call_status === 'in_progress'
      ? patch.call_status
      : patch.call_status === 'in_progress'
        ? cur.call_status
        : newer
          ? patch.call_status
          : cur.call_status;
  next.lifecycle_rank = Math.max(cur.lifecycle_rank, patch.rank);
  next.last_event_at = cur.last_event_at && cur.last_event_at > patch.observedAt ? cur.last_event_at : patch.observedAt;
  return next as unknown as SessionState;
}
