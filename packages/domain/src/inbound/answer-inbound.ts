import { type Db } from '@callsync/db';
import { findInboundCallerFacts, findInboundFacts, type CallerHistory, type InboundFacts } from '@callsync/db/live';
import { withTimeout } from '@callsync/runtime';
import { resolveCompany } from '../handlers/tenant-cache';
import { callerHashesOf } from '../privacy/caller-hash';
import type { SecretKeyring } from '../privacy/secret-key';
import type { ContextCache } from '../context/prefetch';
import type { TenantDirectory } from '../tenants/directory';

/*
 * Retell's inbound webhook (call_inbound, chat_inbound): the caller rings until it is answered, so the
 * answer comes from one query (after the company, usually cached), bounded: after `budgetMs` (default
 * 1 s) without Postgres the answer is the number's static defaults as last read, and the call goes on.
 * A blocked caller is rejected (`{"reject": true}`), whatever agent the number has.
 *
 * With a loaded TenantDirectory (the live routes hold one), company, static variables, time windows
 * and blocklist come from memory and only the caller's history (and a retried request's first
 * answer) from Postgres: when that is late the answer still routes by schedule and still rejects a
 * blocked caller, and goes without caller memory.
 */

export interface InboundRequest {
  from_number: string | null;
  /** Retell's id of the call (call_inbound.call_id): its context is prefetched under it. */
  call_id?: string | null;
  to_number: string;
  /** The number's inbound agent, when it has one: the agent's company comes first, as for sessions. */
  agent_id?: string | null;
  /**
   * The key this request is recorded under (`call_inbound:<call_id>`): Retell's retry of it gets the
   * answer recorded for it, if any. Null: no id to recognise a retry by.
   */
  answerKey?: string | null;
}

export interface InboundRouting {
  override_agent_id?: string;
  override_agent_version?: number;
  dynamic_variables: Record<string, string>;
  metadata?: Record<string, string>;
}

/** Only boolean true rejects (Retell's inbound webhook docs); nothing else goes with it. */
export interface InboundRejection {
  reject: true;
}

export type InboundAnswer = InboundRouting | InboundRejection;

export interface InboundDecision {
  answer: InboundAnswer;
  /**
   * routed: from Postgres; rejected: a blocked caller; fallback: Postgres did not answer in time;
   * repeated: Retell's retry of a request already answered, given the same answer.
   */
  outcome: 'routed' | 'rejected' | 'fallback' | 'repeated';
  company: string | null;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** One formatter per time zone: building one costs more than the rest of an inbound answer (bench profile). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    // Time zones are a handful; a bound keeps a bad tenant file from growing this.
    if (formatters.size > 500) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** ISO weekday (1 = Monday) and 'HH:MM:SS' of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { weekday: number; time: string } {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { weekday: WEEKDAY[parts.weekday!]!, time: `${parts.hour}:${parts.minute}:${parts.second}` };
}

/** The schedule window `at` falls in (company time zone), if any: [starts_at, ends_at) on its weekdays. */
export function pickScheduledAgent(
  schedules: InboundFacts['schedules'],
  at: Date,
  timeZone: string,
): InboundFacts['schedules'][number] | undefined {
  const { weekday, time } = localTime(at, timeZone);
  return schedules.find((s) => s.weekdays.includes(weekday) && time >= s.starts_at && time < s.ends_at);
}

/** Numbers' static variables as last read: what a fallback answer carries. */
const staticDefaults = new Map<string, Record<string, string>>();

const isAnswer = (v: unknown): v is InboundAnswer => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface InboundOptions {
  now?: Date;
  /** How long Postgres may take. Default 1000 ms. */
  budgetMs?: number;
  /** Routing in memory; without one (or before it loaded), everything is read from Postgres. */
  directory?: TenantDirectory;
  /** Where the call's context is prefetched for its first function call (context/prefetch.ts). */
  prefetch?: ContextCache;
}

export async function answerInbound(
  db: Db,
  keys: SecretKeyring,
  req: InboundRequest,
  options: InboundOptions = {},
): Promise<InboundDecision> {
  if (options.directory?.loaded) return answerFromDirectory(db, keys, req, options.directory, options);
  const now = options.now ?? new Date();
  const caller = req.from_number && req.from_number.toLowerCase() !== 'anonymous' ? req.from_number : null;
  let facts: InboundFacts;
  try {
    facts = await withTimeout(
      (async () => {
        // The session's rule: the agent's company, else the number's.
        const companyId = await resolveCompany(db, {
          agent_id: req.agent_id,
          direction: 'inbound',
          to_number: req.to_number,
        });
        return findInboundFacts(db, {
          toNumber: req.to_number,
          fromNumber: caller,
          callerHashes: await callerHashesOf(db, keys, caller),
          companyId,
          answerKey: req.answerKey ?? null,
        });
      })(),
      options.budgetMs ?? 1000,
      'inbound routing',
    );
  } catch {
    return {
      answer: { dynamic_variables: { ...(staticDefaults.get(req.to_number) ?? {}) } },
      outcome: 'fallback',
      company: null,
    };
  }
  const statics = facts.number?.dynamic_variables ?? {};
  if (staticDefaults.size > 10_000) staticDefaults.clear();
  staticDefaults.set(req.to_number, statics);
  const company = facts.company;
  if (facts.prior && isAnswer(facts.prior.answer))
    return { answer: facts.prior.answer, outcome: 'repeated', company: company?.id ?? null };
  if (facts.blocked) {
    // Leaving out override_agent_id would connect the number's inbound agent: only reject rejects.
    return { answer: { reject: true }, outcome: 'rejected', company: company?.id ?? null };
  }
  const h = facts.history;
  const answer: InboundRouting = {
    dynamic_variables: {
      ...statics,
      company_name: company?.name ?? '',
      caller_known: String(h.call_count > 0),
      caller_call_count: String(h.call_count),
      caller_last_call_at: h.last_call_at ? h.last_call_at.toISOString() : '',
      caller_last_summary: h.last_summary ?? '',
    },
  };
  const scheduled = company ? pickScheduledAgent(facts.schedules, now, company.time_zone) : undefined;
  if (scheduled) {
    answer.override_agent_id = scheduled.agent_id;
    if (scheduled.agent_version !== null) answer.override_agent_version = scheduled.agent_version;
  }
  return { answer, outcome: 'routed', company: company?.id ?? null };
}

/** The routing answer: statics, company name, caller memory, and the agent of the time window. */
function routed(
  statics: Record<string, string>,
  company: { name: string; time_zone: string } | null,
  history: CallerHistory | null,
  schedules: InboundFacts['schedules'],
  now: Date,
): InboundRouting {
  const answer: InboundRouting = {
    dynamic_variables: {
      ...statics,
      company_name: company?.name ?? '',
      ...(history
        ? {
            caller_known: String(history.call_count > 0),
            caller_call_count: String(history.call_count),
            caller_last_call_at: history.last_call_at ? history.last_call_at.toISOString() : '',
            caller_last_summary: history.last_summary ?? '',
          }
        : {}),
    },
  };
  const scheduled = company ? pickScheduledAgent(schedules, now, company.time_zone) : undefined;
  if (scheduled) {
    answer.override_agent_id = scheduled.agent_id;
    if (scheduled.agent_version !== null) answer.override_agent_version = scheduled.agent_version;
  }
  return answer;
}

/** answerInbound with routing from memory: Postgres only for the caller's history and a retry's answer. */
async function answerFromDirectory(
  db: Db,
  keys: SecretKeyring,
  req: InboundRequest,
  directory: TenantDirectory,
  options: InboundOptions,
): Promise<InboundDecision> {
  const now = options.now ?? new Date();
  const caller = req.from_number && req.from_number.toLowerCase() !== 'anonymous' ? req.from_number : null;
  const companyId = directory.companyOf({ agent_id: req.agent_id, direction: 'inbound', to_number: req.to_number });
  const company = directory.company(companyId);
  const statics = directory.number(req.to_number)?.dynamic_variables ?? {};
  const schedules = directory.schedulesOf(req.to_number);
  let facts: Pick<InboundFacts, 'history' | 'prior'> | undefined;
  try {
    facts = await withTimeout(
      (async () =>
        findInboundCallerFacts(db, {
          fromNumber: caller,
          callerHashes: await callerHashesOf(db, keys, caller),
          companyId,
          answerKey: req.answerKey ?? null,
        }))(),
      options.budgetMs ?? 1000,
      'inbound caller memory',
    );
  } catch {
    // Postgres is slow or away: route from memory, without the caller's memory.
  }
  if (facts?.prior && isAnswer(facts.prior.answer))
    return { answer: facts.prior.answer, outcome: 'repeated', company: companyId };
  if (directory.isBlocked(companyId, caller))
    return { answer: { reject: true }, outcome: 'rejected', company: companyId };
  const answer = routed(statics, company, facts?.history ?? null, schedules, now);
  if (facts && req.call_id && options.prefetch)
    options.prefetch.put(req.call_id, { companyId, customer: caller, history: facts.history });
  return { answer, outcome: facts ? 'routed' : 'fallback', company: companyId };
}
