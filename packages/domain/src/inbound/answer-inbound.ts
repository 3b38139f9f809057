import { findInboundFacts, type Db, type InboundFacts } from '@callsync/db';
import { withTimeout } from '@callsync/runtime';

/*
 * Retell's inbound webhook (call_inbound, chat_inbound): the caller rings until it is answered, so the
 * answer comes from one query, bounded: after `budgetMs` (default 1 s) without Postgres the answer is
 * the number's static defaults as last read, and the call goes on.
 */

export interface InboundRequest {
  from_number: string | null;
  to_number: string;
  agent_id?: string | null;
}

export interface InboundAnswer {
  override_agent_id?: string;
  override_agent_version?: number;
  dynamic_variables: Record<string, string>;
  metadata?: Record<string, string>;
}

export interface InboundDecision {
  answer: InboundAnswer;
  /** routed: from Postgres; declined: a blocked caller; fallback: Postgres did not answer in time. */
  outcome: 'routed' | 'declined' | 'fallback';
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

export async function answerInbound(
  db: Db,
  req: InboundRequest,
  options: { now?: Date; budgetMs?: number } = {},
): Promise<InboundDecision> {
  const now = options.now ?? new Date();
  const caller = req.from_number && req.from_number.toLowerCase() !== 'anonymous' ? req.from_number : null;
  let facts: InboundFacts;
  try {
    facts = await withTimeout(findInboundFacts(db, req.to_number, caller), options.budgetMs ?? 1000, 'inbound routing');
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
  if (facts.blocked) {
    // Declined: no override agent. Retell hangs up only if the number itself has no inbound agent.
    return {
      answer: { dynamic_variables: {}, metadata: { callsync_declined: 'blocked caller' } },
      outcome: 'declined',
      company: company?.id ?? null,
    };
  }
  const h = facts.history;
  const answer: InboundAnswer = {
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
