import {
  lockCallSessions,
  recordTransferEvents,
  updateCallSessions,
  type CallSession,
  type NewTransferEvent,
} from '@callsync/db/sessions';
import { parseCall } from '../events/call';
import { CALL_EVENTS, isLifecycleEvent, isTransferEvent } from '../events/event-types';
import { PermanentEventError } from '../errors';
import { mergeSession, patchFromEvent, SESSION_STATE_KEYS, type SessionState } from '../state/call-state';
import { foldTransfers, transferEventOf } from '../state/transfers';
import { resolveCompany } from './tenant-cache';
import type { EventHandler, HandlerResult, StoredEvent } from './handler';
import { mergePatches } from './nothing-new';

function toState(row: CallSession): SessionState {
  const state = Object.fromEntries(SESSION_STATE_KEYS.map((k) => [k, row[k]])) as unknown as SessionState;
  state.transfers = Array.isArray(row.transfers) ? (row.transfers as SessionState['transfers']) : [];
  return state;
}

/**
 * Every call event (lifecycle, transcript_updated, transfers) -> retell_call_sessions, through the
 * state machine, for any number of events in one transaction: lock (creating) every session involved
 * at once and in call_id order, merge each call's events in memory, record transfer events and
 * rebuild those calls' transfer lists, write every session back in one statement. One handler for
 * all of a call's events, so a batch locks each session once and concurrent batches cannot deadlock.
 */
export const applyCallEvents = async (
  db: Parameters<EventHandler>[0],
  events: readonly StoredEvent[],
): Promise<HandlerResult> => {
  const patches: { event: StoredEvent; callId: string; patch: ReturnType<typeof patchFromEvent> }[] = [];
  const transfers: NewTransferEvent[] = [];
  for (const e of events) {
    if (!CALL_EVENTS.includes(e.eventType)) throw new PermanentEventError(`not a call event: ${e.eventType}`);
    const call = parseCall(e.payload);
    const companyId = await resolveCompany(db, call);
    patches.push({ event: e, callId: call.call_id, patch: patchFromEvent(e.eventType, call, e.receivedAt, companyId) });
    if (isTransferEvent(e.eventType)) {
      transfers.push({
        call_id: call.call_id,
        webhook_event_id: e.rowId,
        ...transferEventOf(e.eventType, e.payload),
        received_at: e.receivedAt,
      });
    }
  }
  const sessions = await lockCallSessions(
    db,
    patches.map((p) => p.callId),
  );
  const state = new Map(sessions.map((s) => [s.call_id, toState(s)]));
  const { skipped, touched } = await mergePatches(
    db,
    patches.map((p) => ({ event: p.event, id: p.callId, patch: p.patch })),
    { state, erased: new Set(sessions.filter((s) => s.erased_at !== null).map((s) => s.call_id)) },
    { merge: mergeSession, isLifecycle: isLifecycleEvent },
  );
  const recorded = await recordTransferEvents(db, transfers);
  for (const callId of new Set(transfers.map((t) => t.call_id))) {
    state.get(callId)!.transfers = foldTransfers(recorded.filter((r) => r.call_id === callId));
    touched.add(callId);
  }
  await updateCallSessions(
    db,
    [...touched].map((callId) => ({ callId, values: state.get(callId)! })),
  );
  return skipped;
};
