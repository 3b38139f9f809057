import { z } from 'zod';
import type { CallContext } from '../context/call-context';
import { defineFunction } from './function';

function when(iso: string | null, timeZone: string): string {
  if (!iso) return 'at an unknown time';
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso));
}

/** The caller's history as a sentence the agent can read aloud. */
export function describeHistory(ctx: CallContext): string {
  const tz = ctx.company?.time_zone ?? 'UTC';
  const c = ctx.caller;
  if (c.withheld) return 'The caller withheld their number, so there is no history.';
  if (!c.known) return `This is the first call from ${c.number} that we know of.`;
  const summary = c.last_summary ? ` Last time: ${c.last_summary}` : '';
  return `The caller has called ${c.call_count} time${c.call_count === 1 ? '' : 's'} before; the last call was ${when(c.last_call_at, tz)}.${summary}`;
}

/** Everything known about the current call, short enough to read aloud. */
export const getCallContext = defineFunction({
  name: 'get_call_context',
  description: 'Who is calling, for which company, through which agent, since when, and their history.',
  args: z.looseObject({}),
  async handle({ call }) {
    if (!call) return 'I have no details about this call.';
    const company = call.company ? `for ${call.company.name}` : 'for a company that is not set up yet';
    const started = call.started_at ? ` It started ${when(call.started_at, call.company?.time_zone ?? 'UTC')}.` : '';
    const who = call.caller.withheld ? 'a caller who withheld their number' : `${call.caller.number}`;
    const kind = call.direction === 'inbound' ? 'an inbound' : call.direction === 'outbound' ? 'an outbound' : 'a web';
    return `This is ${kind} call ${company} with ${who}.${started} ${describeHistory(call)}`;
  },
});

/** The caller's earlier calls with this company. */
export const getCallerHistory = defineFunction({
  name: 'get_caller_history',
  description: "How often the caller called this company before, when last, and that call's summary.",
  args: z.looseObject({}),
  async handle({ call }) {
    if (!call) return 'I have no details about this call.';
    return describeHistory(call);
  },
});

/**
 * The results that finished after their pending message ("Ich schaue noch nach, einen Moment."),
 * handed over once each; waits up to its own budget for ones still running.
 */
export const getPendingResult = defineFunction({
  name: 'get_pending_result',
  description:
    'Call after telling the caller you are still checking: returns the results of earlier functions of this call that finished since.',
  args: z.looseObject({ name: z.string().max(64).optional() }),
  budgetMs: 1500,
  pendingMessage: 'It is still running. Tell the caller it takes a moment longer, then ask again.',
  async handle(ctx, { name }) {
    if (!ctx.call || !ctx.pendingResults) return 'There is no call to look up results for.';
    const { taken, running } = await ctx.pendingResults(name);
    const lines = taken.map((t) =>
      t.status === 'ok' || t.status === 'bad_args'
        ? `${t.name}: ${t.result ?? ''}`
        : `${t.name} did not finish (${t.status}); call it again.`,
    );
    if (running.length) lines.push(`Still running: ${[...new Set(running)].join(', ')}.`);
    return lines.length ? lines.join('\n') : 'There are no pending results.';
  },
});

export const BUILTIN_FUNCTIONS = [getCallContext, getCallerHistory, getPendingResult] as const;
