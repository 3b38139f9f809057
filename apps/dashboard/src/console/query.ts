import type { WebhookEventStatus } from '@callsync/db/events';
import type { CallSearch, EventSearch, Keyset } from '@callsync/db/ops';

/*
 * The console's query strings, read without a database: filters, time ranges and keyset cursors.
 * A bad field throws RangeError naming it; the pages show that message with a 400.
 */

/** A page's query string (or a form's fields). */
export type Query = Record<string, string | undefined>;

/** Rows per page of calls and events. */
export const PAGE = 50;

/** The calls page's status filter for calls reconciliation gave up on. */
export const GIVEN_UP = 'given_up';

export const EVENT_STATUSES: readonly WebhookEventStatus[] = ['pending', 'processed', 'failed', 'skipped'];

/** A form's time (datetime-local, "2026-12-06T10:30", read as UTC) or any date the browser sends. */
export function parseTime(text: unknown, name: string): Date | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const d = new Date(text.length === 16 ? `${text}:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new RangeError(`${name}: "${text}" is not a date and time`);
  return d;
}

/** A keyset cursor in a URL: ISO time and row id. Anything else means the first page. */
export function parseAfter(text: unknown): Keyset | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(.+)_(\d+)$/.exec(text);
  const at = m ? new Date(m[1]!) : undefined;
  return at && !Number.isNaN(at.getTime()) ? { at, id: m![2]! } : undefined;
}

/** The link to the page after a full one: the same filter, starting after its last row. */
export function nextPage(path: string, q: Query, rows: number, last: Keyset | null | undefined): string | undefined {
  if (rows < PAGE || !last) return undefined;
  const filter = Object.entries(q).filter((e): e is [string, string] => e[0] !== 'after' && typeof e[1] === 'string');
  return `${path}?${new URLSearchParams([...filter, ['after', `${last.at.toISOString()}_${last.id}`]]).toString()}`;
}

/** The calls page's search from its query (the company, a name or id, is the caller's to look up). */
export function parseCallQuery(q: Query): Omit<CallSearch, 'companyId'> {
  if (q.digits && !/^\d{2,15}$/.test(q.digits))
    throw new RangeError('caller: give the last 2 to 15 digits of the number');
  if (q.version && !/^\d{1,9}$/.test(q.version)) throw new RangeError('version: give an agent version number');
  return {
    id: q.id || undefined,
    // "given up": in_progress calls reconciliation stopped polling (Retell did not know them).
    status: q.status === GIVEN_UP ? undefined : q.status || undefined,
    givenUp: q.status === GIVEN_UP || undefined,
    agentId: q.agent || undefined,
    agentVersion: q.version ? Number(q.version) : undefined,
    callerDigits: q.digits || undefined,
    from: parseTime(q.from, 'from'),
    to: parseTime(q.to, 'to'),
    after: parseAfter(q.after),
    limit: PAGE,
  };
}

/** The events page's filter from its query or a replay form (the company is the caller's to look up). */
export function parseEventQuery(q: Query): Omit<EventSearch, 'companyId' | 'after' | 'limit'> {
  const status = q.status || undefined;
  if (status && !EVENT_STATUSES.includes(status as WebhookEventStatus))
    throw new RangeError(`status: "${status}" is not one of ${EVENT_STATUSES.join(', ')}`);
  return {
    statuses: status ? [status as WebhookEventStatus] : undefined,
    eventTypes: q.event ? [q.event] : undefined,
    from: parseTime(q.from, 'from'),
    to: parseTime(q.to, 'to'),
  };
}

/** Runs a step that may reject the input: its value, or the message of its RangeError (anything else throws). */
export async function orBadInput<T>(step: () => Promise<T>, fallback: T): Promise<{ value: T; error?: string }> {
  try {
    return { value: await step() };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { value: fallback, error: err.message };
  }
}
