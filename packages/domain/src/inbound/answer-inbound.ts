import { findInboundFacts, type Db, type InboundFacts } from '@callsync/db';
import { withTimeout } from '@callsync/runtime';
import { resolveCompany } from '../handlers/tenant-cache';
import { callerHashesOf } from '../privacy/caller-hash';
import type { SecretKeyring } from '../privacy/secret-key';

/*
 * Retell's inbound webhook (call_inbound, chat_inbound): the caller rings until it is answered, so the
 * answer comes from one query (after the company, usually cached), bounded: after `budgetMs` (default
 * 1 s) without Postgres the answer is the number's static defaults as last read, and the call goes on.
 * A blocked caller is rejected (`{"reject": true}`), whatever agent the number has.
 */

export interface InboundRequest {
  from_number: string | null;
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

/** ISO weekday (1 = Monday) and 'HH:MM:SS' of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { weekday: number; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
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

export async function answerInbound(
  db: Db,
  keys: SecretKeyring,
  req: InboundRequest,
  options: { now?: Date; budgetMs?: number } = {},
): Promise<InboundDecision> {
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
