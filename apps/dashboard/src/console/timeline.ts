import type { WebhookEvent } from '@callsync/db/events';
import type { CallSession } from '@callsync/db/sessions';
import type { ForwardDelivery } from '@callsync/db/forward';
import type { FunctionCall } from '@callsync/db/live';
import { maskPhoneNumber, redact } from '@callsync/logger';
import { when } from './format';

/*
 * One call's (or chat's) page: its session's facts and a timeline of everything callsync did for it,
 * events, functions, forwards and reconciliation, oldest first. Numbers are masked here, before any
 * template sees them.
 */

export type TimelineEvent = Pick<
  WebhookEvent,
  | 'id'
  | 'created_at'
  | 'event_type'
  | 'source'
  | 'status'
  | 'delivery_count'
  | 'attempts'
  | 'replay_count'
  | 'error'
  | 'payload'
>;
export type TimelineFunction = Pick<
  FunctionCall,
  'created_at' | 'name' | 'status' | 'duration_ms' | 'replays' | 'error'
>;
export type TimelineForward = Pick<
  ForwardDelivery,
  'created_at' | 'event_type' | 'destination_id' | 'status' | 'attempts' | 'last_status_code' | 'last_error'
>;
export type TimelineCall = Pick<
  CallSession,
  | 'reconcile_checked_at'
  | 'reconcile_stopped_at'
  | 'reconcile_not_found_count'
  | 'reconcile_failure_count'
  | 'reconcile_analysis_checks'
>;

export interface TimelineSources {
  /** The call's session (a retell_call_sessions row), if `id` is a call's. */
  call?: TimelineCall & object;
  /** The chat's session (a retell_chat_sessions row), if `id` is a chat's and not a call's. */
  chat?: object;
  events: TimelineEvent[];
  functions: TimelineFunction[];
  forwards: TimelineForward[];
}

export interface TimelineEntry {
  t: Date;
  /** The row's class: event, function, forward or reconcile. */
  kind: string;
  what: string;
  status: string;
  details: string;
  /** `t` as shown. */
  at: string;
}

/** Everything that happened to one call or chat, oldest first. */
export function buildTimeline(s: {
  call?: TimelineCall;
  events: TimelineEvent[];
  functions: TimelineFunction[];
  forwards: TimelineForward[];
}): TimelineEntry[] {
  const entries: Omit<TimelineEntry, 'at'>[] = [
    ...s.events.map((e) => ({
      t: e.created_at,
      kind: 'event',
      what: `${e.event_type} (${e.source})`,
      status: e.status,
      details: `delivered ${e.delivery_count}×, attempts ${e.attempts}${e.replay_count ? `, replayed ${e.replay_count}×` : ''}${e.error ? ` - ${e.error}` : ''}`,
    })),
    ...s.functions.map((f) => ({
      t: f.created_at,
      kind: 'function',
      what: `function ${f.name}`,
      status: f.status,
      details: `${f.duration_ms ?? '?'} ms${f.replays ? `, answered ${f.replays}× from the record` : ''}${f.error ? ` - ${f.error}` : ''}`,
    })),
    ...s.forwards.map((d) => ({
      t: d.created_at,
      kind: 'forward',
      what: `forward ${d.event_type} to destination ${d.destination_id}`,
      status: d.status,
      details: `attempts ${d.attempts}${d.last_status_code ? `, last answer ${d.last_status_code}` : ''}${d.last_error ? ` - ${d.last_error}` : ''}`,
    })),
  ];
  const call = s.call;
  if (call?.reconcile_checked_at)
    entries.push({
      t: call.reconcile_checked_at,
      kind: 'reconcile',
      what: 'reconciliation asked Retell',
      status: call.reconcile_stopped_at ? 'stopped polling' : '',
      details: `not found ${call.reconcile_not_found_count}×, failed ${call.reconcile_failure_count}×, analysis checks ${call.reconcile_analysis_checks}`,
    });
  return entries.sort((a, b) => a.t.getTime() - b.t.getTime()).map((e) => ({ ...e, at: when(e.t) }));
}

/** Fields too long or too personal for the facts list; the payloads below hold them, redacted. */
const NOT_FACTS = ['transcript', 'analysis', 'transcript_object'];

/** A session's fields as the page lists them: set ones only, times formatted, numbers masked. */
export function sessionFacts(session: object | undefined): [string, string][] {
  if (!session) return [];
  const shown = (v: unknown): string =>
    v instanceof Date ? when(v) : typeof v === 'object' ? JSON.stringify(redact(v)) : maskPhoneNumber(String(v));
  return Object.entries(session)
    .filter(([k, v]) => v !== null && !NOT_FACTS.includes(k))
    .map(([k, v]) => [k, shown(v)]);
}

/** The page for `id`: its title, what the template shows, and 404 when callsync knows nothing of it. */
export function timelinePage(id: string, s: TimelineSources) {
  const session = s.call ?? s.chat;
  return {
    title: s.chat ? `Chat ${id}` : `Call ${id}`,
    status: session || s.events.length ? 200 : 404,
    data: {
      id,
      session,
      facts: sessionFacts(session),
      timeline: buildTimeline(s),
      payloads: s.events.map((e) => ({
        id: e.id,
        event: e.event_type,
        json: JSON.stringify(redact(e.payload), null, 2),
      })),
    },
  };
}
