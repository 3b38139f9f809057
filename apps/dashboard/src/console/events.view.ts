import type { ReplaySelection } from '@callsync/db/events';
import type { EventRow } from '@callsync/db/ops';
import { when } from './format';
import { parseEventQuery, type Query } from './query';

/** A replay of more events than this asks for confirmation first. */
export const CONFIRM_ABOVE = 100;
/** The most events one filtered replay takes (the CLI's default --limit). */
const REPLAY_LIMIT = 10_000;

/** One row of the events list. */
export function eventView(e: EventRow) {
  return { ...e, received: when(e.created_at), subject: e.call_id ?? e.chat_id };
}

/** The notice after a replay (the events page's `replayed` parameter). */
export function replayNotice(q: Query): string | undefined {
  return typeof q.replayed === 'string' ? `${q.replayed} event(s) replayed: a worker applies them now.` : undefined;
}

/**
 * What a Replay form selects: one failed event (`id`), or every failed event matching the form's
 * filter (its status is always failed). RangeError names a bad field.
 */
export function replaySelectionOf(form: Query, companyId: string | undefined): ReplaySelection {
  if (form.id) {
    if (!/^\d+$/.test(form.id)) throw new RangeError(`id: "${form.id}" is not an event id`);
    return { statuses: ['failed'], eventIds: [form.id], limit: 1 };
  }
  const f = parseEventQuery({ ...form, status: 'failed' });
  return { statuses: ['failed'], eventTypes: f.eventTypes, companyId, since: f.from, until: f.to, limit: REPLAY_LIMIT };
}

/** Whether a replay of `count` events must be confirmed first; if so, the fields the confirmation repeats. */
export function confirmationOf(form: Query, count: number): { fields: [string, string][] } | undefined {
  if (count <= CONFIRM_ABOVE || form.confirm === 'yes') return undefined;
  return {
    fields: ['event', 'company', 'from', 'to'].flatMap((k): [string, string][] => (form[k] ? [[k, form[k]!]] : [])),
  };
}
