import { lockCallSessions, updateCallSessions, type CallSession, type CallSessionValues } from '@callsync/db';
import { mergeSession, patchFromEvent, SESSION_STATE_KEYS, type SessionState } from '../call-state';
import { parseCall } from '../events/call';
import { isLifecycleEvent } from '../events/event-types';
import { PermanentEventError } from '../errors';
import { companyIdForAgent } from './agent-cache';
import type { EventHandler, StoredEvent } from './handler';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

function toColumns(s: SessionState): CallSessionValues {
  return { ...s, analysis: json(s.analysis), call_cost: json(s.call_cost), metadata: json(s.metadata) };
}

function toState(row: CallSession): SessionState {
  return Object.fromEntries(SESSION_STATE_KEYS.map((k) => [k, row[k]])) as unknown as SessionState;
}

async function patchOf(db: Parameters<EventHandler>[0], event: StoredEvent) {
  if (!isLifecycleEvent(event.eventType)) throw new PermanentEventError(`not a lifecycle event: ${event.eventType}`);
  const call = parseCall(event.payload);
  const companyId = call.agent_id ? await companyIdForAgent(db, call.agent_id) : null;
  return { callId: call.call_id, patch: patchFromEvent(event.eventType, call, event.receivedAt, companyId) };
}

/**
 * call_started / call_ended / call_analyzed -> retell_call_sessions, through the state machine, for
 * any number of events in one transaction with three statements in all: lock (creating) every
 * session involved, merge each call's events in memory, write every session back at once.
 */
export async function applyLifecycleEvents(
  db: Parameters<EventHandler>[0],
  events: readonly StoredEvent[],
): Promise<void> {
  const patches = [];
  for (const e of events) patches.push(await patchOf(db, e));
  const sessions = await lockCallSessions(
    db,
    patches.map((p) => p.callId),
  );
  const state = new Map(sessions.map((s) => [s.call_id, toState(s)]));
  for (const { callId, patch } of patches) state.set(callId, mergeSession(state.get(callId)!, patch));
  await updateCallSessions(
    db,
    [...state].map(([callId, s]) => ({ callId, values: toColumns(s) })),
  );
}

/** One event: a batch of one. */
export const applyLifecycleEvent: EventHandler = (db, event) => applyLifecycleEvents(db, [event]);
