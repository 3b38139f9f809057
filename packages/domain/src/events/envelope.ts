import { z } from 'zod';
import { CALL_EVENTS, isChatEvent, isSnapshotEvent } from './event-types';

/** What a delivery is about: a call, a chat, or (an event callsync does not know, with neither) nothing. */
export type Subject = { kind: 'call'; id: string } | { kind: 'chat'; id: string } | null;

export interface Envelope {
  event: string;
  subject: Subject;
}

export type EnvelopeResult = { ok: true; envelope: Envelope } | { ok: false; message: string };

const id = z.string().min(1).max(200);

/**
 * What the ingress needs of a webhook body. Other fields are allowed and left out of the result: the
 * stored payload is the body itself, so copying a whole call (transcript and all) here would only
 * cost the ingress time on every request. `data` is the call's older name in Retell's payloads.
 */
const envelopeSchema = z.object({
  event: z.string().min(1).max(100),
  call: z.object({ call_id: id }).nullish(),
  chat: z.object({ chat_id: id }).nullish(),
});

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join('.') || 'body';
  let value: unknown = input;
  for (const p of issue.path)
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  if (value === undefined && issue.code === 'invalid_type') return `${field} is required`;
  return `${field}: ${issue.message}`;
}

const fail = (message: string): EnvelopeResult => ({ ok: false, message });

/**
 * Validate a parsed webhook body: a string `event` and the object its subject is named in
 * (`call.call_id`, or `chat.chat_id` for chat events). An event callsync does not know, with neither
 * object, has no subject: it is kept and skipped, never refused. The message names the offending
 * field, e.g. "call.call_id is required".
 */
export function parseEnvelope(body: unknown): EnvelopeResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return fail('body must be a JSON object like {"event": ..., "call": {"call_id": ...}}');
  }
  const raw = body as Record<string, unknown>;
  // The deprecated `data` stands in for `call` when a body has only that.
  const input =
    raw.call === undefined && raw.data && typeof raw.data === 'object' && 'call_id' in raw.data
      ? { ...raw, call: raw.data }
      : raw;
  const r = envelopeSchema.safeParse(input);
  if (!r.success) return fail(r.error.issues.map((i) => describeIssue(i, input)).join('; '));
  const { event, call, chat } = r.data;
  if (isChatEvent(event)) {
    if (chat) return { ok: true, envelope: { event, subject: { kind: 'chat', id: chat.chat_id } } };
    return fail('chat.chat_id is required');
  }
  if (call) return { ok: true, envelope: { event, subject: { kind: 'call', id: call.call_id } } };
  // A chat agent may subscribe to transcript_updated too: its body carries the chat, not a call.
  if (chat && isSnapshotEvent(event))
    return { ok: true, envelope: { event, subject: { kind: 'chat', id: chat.chat_id } } };
  if (CALL_EVENTS.includes(event))
    return fail(isSnapshotEvent(event) ? 'call.call_id or chat.chat_id is required' : 'call.call_id is required');
  if (chat) return { ok: true, envelope: { event, subject: { kind: 'chat', id: chat.chat_id } } };
  return { ok: true, envelope: { event, subject: null } };
}
