import { type Db } from '@callsync/db';
import { type CallSession } from '@callsync/db/sessions';
import {
  findCallForContext,
  findContextFacts,
  type CallerHistory,
  type CallForContext,
  type ContextFacts,
  type ContextFactsQuery,
} from '@callsync/db/live';
import { parseCall, type RetellCall } from '../events/call';
import { CALL_EVENTS } from '../events/event-types';
import { resolveCompany } from '../handlers/tenant-cache';
import { callerHashesOf } from '../privacy/caller-hash';
import type { SecretKeyring } from '../privacy/secret-key';
import type { TenantDirectory } from '../tenants/directory';
import type { ContextCache, PrefetchedCaller } from './prefetch';
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
  /**
   * Where the state came from: a worker's session, stored events not applied yet, the request; and
   * `prefetched` when the caller's history was resolved ahead (call_inbound, call_started) and the
   * answer needed no Postgres.
   */
  sources: { session: boolean; pending_events: number; request: boolean; prefetched?: boolean };
}

/** What the live routes hold in memory for contexts: routing (TenantDirectory) and prefetched callers. */
export interface ContextSources {
  directory?: TenantDirectory;
  prefetched?: ContextCache;
}

/**
 * What a function's claim of its invocation already read for the context (claimInvocation's
 * `context`), and the facts' query it guessed (contextClaimFor).
 */
export type StoredContext = CallForContext & { facts?: ContextFacts; factsQuery?: ContextFactsQuery };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function stateOf(row: CallSession): SessionState {
  const state = Object.fromEntries(SESSION_STATE_KEYS.map((k) => [k, row[k]])) as unknown as SessionState;
  state.transfers = [];
  return state;
}

/**
 * A call's context, read-only, in two round trips (none when `live.stored` holds them). The session as a worker left it, with the call's
 * stored events that no worker has applied yet merged in, and the call object a function request
 * carries, all through the same state machine: so the answer is the same whether or not the workers
 * have caught up. Null when callsync knows nothing of the call and the request brings nothing.
 */
export async function resolveCallContext(
  db: Db,
  keys: SecretKeyring,
  callId: string,
  live?: { call: RetellCall; at: Date; sources?: ContextSources; stored?: StoredContext },
): Promise<CallContext | null> {
  const sources = live?.sources;
  if (live && sources?.directory?.loaded && sources.prefetched) {
    const hit = sources.prefetched.get(callId);
    if (hit) return fromRequest(callId, live, hit, sources.directory);
  }
  const stored = live?.stored;
  const { session, pending } = stored ?? (await findCallForContext(db, callId));
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
  const parties = {
    agent_id: state.agent_id,
    direction: state.direction,
    from_number: state.from_number,
    to_number: state.to_number,
  };
  const companyId =
    session?.company_id ??
    (sources?.directory?.loaded ? sources.directory.companyOf(parties) : null) ??
    (await resolveCompany(db, parties));
  const { customer, withheld } = customerOf(state);
  const query: ContextFactsQuery = {
    companyId,
    agentId: state.agent_id,
    customerNumber: withheld ? null : customer,
    callerHashes: withheld ? [] : await callerHashesOf(db, keys, customer),
    excludeCallId: callId,
  };
  // The claim's guess holds unless the session or stored events changed who or whose the call is.
  const facts =
    stored?.facts && stored.factsQuery && sameQuery(stored.factsQuery, query)
      ? stored.facts
      : await findContextFacts(db, query);
  return assemble(callId, state, facts.company, facts.agent?.name ?? null, facts.history, {
    session: Boolean(session),
    pending_events: applied,
    request: Boolean(live),
  });
}

/**
 * The context of a live call whose caller was prefetched: the call's state from the request's own call
 * object, company and agent from memory, history from the prefetch. No Postgres.
 */
function fromRequest(
  callId: string,
  live: { call: RetellCall; at: Date },
  hit: PrefetchedCaller,
  directory: TenantDirectory,
): CallContext {
  const state = mergeSession(emptySession(), patchFromEvent('transcript_updated', live.call, live.at, null));
  const company = directory.company(hit.companyId);
  const agent = directory.agent(state.agent_id);
  const { customer, withheld } = customerOf(state);
  // The prefetch was for this caller; a call object naming another (it should not) gets no history.
  const history = !withheld && hit.customer === customer ? hit.history : null;
  return assemble(
    callId,
    state,
    company ? { id: company.id, name: company.name, time_zone: company.time_zone } : null,
    agent?.name ?? null,
    history,
    { session: false, pending_events: 0, request: true, prefetched: true },
  );
}

const sameQuery = (a: ContextFactsQuery, b: ContextFactsQuery) =>
  a.companyId === b.companyId &&
  a.agentId === b.agentId &&
  a.customerNumber === b.customerNumber &&
  a.excludeCallId === b.excludeCallId &&
  a.callerHashes.join() === b.callerHashes.join();

/**
 * What a function's claim should read for its call's context in the same statement (claimInvocation's
 * `context`): nothing when the caller was prefetched; with routing in memory, also the facts, their
 * query guessed from the request's call object (resolveCallContext reads them again if the session
 * says otherwise).
 */
export async function contextClaimFor(
  db: Db,
  keys: SecretKeyring,
  call: RetellCall,
  sources?: ContextSources,
): Promise<{ callId: string; facts?: ContextFactsQuery } | undefined> {
  const directory = sources?.directory;
  if (!directory?.loaded) return { callId: call.call_id };
  if (sources?.prefetched?.has(call.call_id)) return undefined;
  const parties = {
    agent_id: call.agent_id ?? null,
    direction: call.direction ?? null,
    from_number: call.from_number ?? null,
    to_number: call.to_number ?? null,
  };
  const { customer, withheld } = customerOf(parties);
  return {
    callId: call.call_id,
    facts: {
      companyId: directory.companyOf(parties),
      agentId: parties.agent_id,
      customerNumber: withheld ? null : customer,
      callerHashes: withheld ? [] : await callerHashesOf(db, keys, customer),
      excludeCallId: call.call_id,
    },
  };
}

/** The caller: the customer's number (the other party for an outbound call), and whether it is withheld. */
function customerOf(state: Pick<SessionState, 'direction' | 'from_number' | 'to_number'>): {
  customer: string | null;
  withheld: boolean;
} {
  const customer = state.direction === 'outbound' ? state.to_number : state.from_number;
  return { customer, withheld: !customer || customer.toLowerCase() === 'anonymous' };
}

/** A call's context from its state, company, agent's name and caller history (null: none known). */
function assemble(
  callId: string,
  state: SessionState,
  company: CallContext['company'],
  agentName: string | null,
  history: CallerHistory | null,
  sources: CallContext['sources'],
): CallContext {
  const { customer, withheld } = customerOf(state);
  return {
    call_id: callId,
    company,
    agent: state.agent_id ? { agent_id: state.agent_id, name: agentName, version: state.agent_version ?? null } : null,
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
      known: (history?.call_count ?? 0) > 0,
      call_count: history?.call_count ?? 0,
      last_call_at: iso(history?.last_call_at ?? null),
      last_summary: history?.last_summary ?? null,
    },
    sources,
  };
}

/**
 * Resolve a starting call's caller history now and keep it (call_started, or a call_inbound whose
 * answer did not already hold it), so the call's first function does not wait for Postgres.
 */
export async function prefetchCallContext(
  db: Db,
  keys: SecretKeyring,
  sources: Required<ContextSources>,
  call: {
    call_id: string;
    agent_id?: string | null;
    direction?: string | null;
    from_number?: string | null;
    to_number?: string | null;
  },
): Promise<void> {
  if (sources.prefetched.has(call.call_id) || !sources.directory.loaded) return;
  // An erasure while this reads must not be undone by what it read.
  const epoch = sources.prefetched.epoch;
  const companyId = sources.directory.companyOf(call);
  const customer = call.direction === 'outbound' ? (call.to_number ?? null) : (call.from_number ?? null);
  const withheld = !customer || customer.toLowerCase() === 'anonymous';
  const facts = await findContextFacts(db, {
    companyId,
    agentId: call.agent_id ?? null,
    customerNumber: withheld ? null : customer,
    callerHashes: withheld ? [] : await callerHashesOf(db, keys, customer),
    excludeCallId: call.call_id,
  });
  sources.prefetched.put(
    call.call_id,
    { companyId, customer: withheld ? null : customer, history: facts.history },
    Date.now(),
    epoch,
  );
}
