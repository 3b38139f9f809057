import { findCallForContext, findContextFacts, type CallSession, type Db } from '@callsync/db';
import { parseCall, type RetellCall } from '../events/call';
import { CALL_EVENTS } from '../events/event-types';
import { resolveCompany } from '../handlers/tenant-cache';
import { callerHashesOf } from '../privacy/caller-hash';
import type { SecretKeyring } from '../privacy/secret-key';
import { emptySession, mergeSession, patchFromEvent, SESSION_STATE_KEYS, type SessionState } from '../state/call-state';

/** Everything a function (or a team's own service) needs to know about a live call. */
export interface CallContext {
  call_id: string;
  company: { id: string; name: string; time_zone: string } | null;
  agent: { agent_id: string; name: string | null; version: number | null } | null;
  call_type: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  call_status: SessionState['call_status'];
  started_at: string | null;
  ended_at: string | null;
  metadata: unknown;
  dynamic_variables: unknown;
  /** The customer: the caller inbound, the number called outbound. */
  caller: {
    number: string | null;
    /** A suppressed caller ID ("anonymous") or a web call: nobody to remember. */
    withheld: boolean;
    known: boolean;
    call_count: number;
    last_call_at: string | null;
    last_summary: string | null;
  };
  /** Where the state came from: a worker's session, stored events not applied yet, the request. */
  sources: { session: boolean; pending_events: number; request: boolean };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function stateOf(row: CallSession): SessionState {
  const state = Object.fromEntries(SESSION_STATE_KEYS.map((k) => [k, row[k]])) as unknown as SessionState;
  state.transfers = [];
  return state;
}

/**
 * A call's context, read-only, in two round trips. The session as a worker left it, with the call's
 * stored events that no worker has applied yet merged in, and the call object a function request
 * carries, all through the same state machine: so the answer is the same whether or not the workers
 * have caught up. Null when callsync knows nothing of the call and the request brings nothing.
 */
export async function resolveCallContext(
  db: Db,
  keys: SecretKeyring,
  callId: string,
  live?: { call: RetellCall; at: Date },
): Promise<CallContext | null> {
  const { session, pending } = await findCallForContext(db, callId);
  if (!session && pending.length === 0 && !live) return null;
  let state = session ? stateOf(session) : emptySession();
  let applied = 0;
  for (const e of pending) {
    if (!CALL_EVENTS.includes(e.event_type)) continue;
    try {
      state = mergeSession(state, patchFromEvent(e.event_type, parseCall(e.payload), e.created_at, null));
      applied += 1;
    } catch {
      // A malformed stored event fails in the worker too; the context goes without it.
    }
  }
  if (live) state = mergeSession(state, patchFromEvent('transcript_updated', live.call, live.at, null));
  const companyId =
    session?.company_id ??
    (await resolveCompany(db, {
      agent_id: state.agent_id,
      direction: state.direction,
      from_number: state.from_number,
      to_number: state.to_number,
    }));
  const customer = state.direction === 'outbound' ? state.to_number : state.from_number;
  const withheld = !customer || customer.toLowerCase() === 'anonymous';
  const facts = await findContextFacts(db, {
    companyId,
    agentId: state.agent_id,
    customerNumber: withheld ? null : customer,
    callerHashes: withheld ? [] : await callerHashesOf(db, keys, customer),
    excludeCallId: callId,
  });
  return {
    call_id: callId,
    company: facts.company,
    agent: state.agent_id
      ? { agent_id: state.agent_id, name: facts.agent?.name ?? null, version: state.agent_version ?? null }
      : null,
    call_type: state.call_type,
    direction: state.direction,
    from_number: state.from_number,
    to_number: state.to_number,
    call_status: state.call_status,
    started_at: iso(state.started_at),
    ended_at: iso(state.ended_at),
    metadata: state.metadata,
    dynamic_variables: state.retell_llm_dynamic_variables,
    caller: {
      number: withheld ? null : customer,
      withheld,
      known: facts.history.call_count > 0,
      call_count: facts.history.call_count,
      last_call_at: iso(facts.history.last_call_at),
      last_summary: facts.history.last_summary,
    },
    sources: { session: Boolean(session), pending_events: applied, request: Boolean(live) },
  };
}
