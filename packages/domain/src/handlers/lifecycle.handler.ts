import { upsertAndLockCallSession, updateCallSession, type CallSession, type CallSessionValues } from '@callsync/db';
import { mergeSession, patchFromEvent, SESSION_STATE_KEYS, type SessionState } from '../call-state';
import { parseCall } from '../events/call';
import { isLifecycleEvent } from '../events/event-types';
import { PermanentEventError } from '../errors';
import { companyIdForAgent } from './agent-cache';
import type { EventHandler } from './handler';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

function toColumns(s: SessionState): CallSessionValues {
  return { ...s, analysis: json(s.analysis), call_cost: json(s.call_cost), metadata: json(s.metadata) };
}

function toState(row: CallSession): SessionState {
  return Object.fromEntries(SESSION_STATE_KEYS.map((k) => [k, row[k]])) as unknown as SessionState;
}

/** call_started / call_ended / call_analyzed -> retell_call_sessions, through the state machine. */
export const applyLifecycleEvent: EventHandler = async (db, event) => {
  if (!isLifecycleEvent(event.eventType)) throw new PermanentEventError(`not a lifecycle event: ${event.eventType}`);
  const call = parseCall(event.payload);
  const companyId = call.agent_id ? await companyIdForAgent(db, call.agent_id) : null;
  const patch = patchFromEvent(event.eventType, call, event.receivedAt, companyId);
  const { session, inserted } = await upsertAndLockCallSession(db, call.call_id, toColumns(mergeSession(null, patch)));
  if (!inserted) await updateCallSession(db, call.call_id, toColumns(mergeSession(toState(session), patch)));
};
