import { createHash } from 'node:crypto';
import type { Envelope } from './envelope';
import { ANALYSIS_EVENTS, isLifecycleEvent, isChatEvent, isSnapshotEvent, isTransferEvent } from './event-types';

export interface DeliveryIdentity {
  /** Deliveries with the same key are one row: a redelivery is counted, not stored again. */
  dedupeKey: string;
  /** transcript_updated: the length of its transcript; the row keeps the longest. Null otherwise. */
  snapshotSize: number | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const hash = (text: string | Buffer) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** JSON with object keys sorted, so the same content always hashes the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObj(value))
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/** The call (or chat) object of a parsed body; `data` is the call's deprecated name. */
export function subjectObject(body: unknown): Obj {
  if (!isObj(body)) return {};
  if (isObj(body.call)) return body.call;
  if (isObj(body.chat)) return body.chat;
  if (isObj(body.data)) return body.data;
  return {};
}

type Entry = Record<string, unknown>;
const entries = (value: unknown): Entry[] => (Array.isArray(value) ? value.filter(isObj) : []);
const str = (value: unknown) => (typeof value === 'string' ? value : '');

/** What an entry adds to the conversation, in characters (its spoken text as "Role: content", or a tool's text). */
function entryChars(e: Entry): number {
  const role = str(e.role);
  switch (role) {
    case 'tool_call_invocation':
      return str(e.name).length + str(e.arguments).length;
    case 'node_transition':
      return str(e.new_node_name).length;
    case 'dtmf':
      return str(e.digit).length;
    default:
      // agent, user, transfer_target, tool_call_result, sms, injected: text content, as the text form writes it.
      return role.length + 2 + str(e.content).length;
  }
}

/**
 * How far the conversation had got, whichever form the snapshot carries it in: the transcript text,
 * `transcript_object` turns, `transcript_with_tool_calls` entries (in the call object or beside it),
 * or a chat's `message_with_tool_calls`. Each form is measured in the characters the text form would
 * have (tool calls count their arguments), and the largest wins: a later snapshot of the same call is
 * never smaller, whichever forms the two carry.
 */
export function transcriptLength(subject: Obj, body: Obj = {}): number {
  let size = typeof subject.transcript === 'string' ? subject.transcript.length : 0;
  for (const list of [
    subject.transcript_object,
    subject.transcript_with_tool_calls,
    body.transcript_with_tool_calls,
    subject.message_with_tool_calls,
  ]) {
    const all = entries(list);
    // As the text form joins its lines: one newline between entries.
    const chars = all.reduce((n, e) => n + entryChars(e), 0) + Math.max(0, all.length - 1);
    if (chars > size) size = chars;
  }
  return size;
}

const SPOKEN = new Set(['agent', 'user', 'transfer_target']);

/** Spoken turns so far (transcript_object entries, or the spoken entries of transcript_with_tool_calls). */
export function transcriptTurns(subject: Obj, body: Obj = {}): number {
  const spoken = (list: unknown) => entries(list).filter((e) => SPOKEN.has(str(e.role))).length;
  return Math.max(
    spoken(subject.transcript_object),
    spoken(subject.transcript_with_tool_calls),
    spoken(body.transcript_with_tool_calls),
  );
}

/**
 * The transcript as text from whichever form a snapshot carries, for a snapshot without the text
 * form: "Agent: ...\nUser: ..." as Retell writes it. Null when it carries none.
 */
export function transcriptText(subject: Obj, body: Obj = {}): string | null {
  if (typeof subject.transcript === 'string') return subject.transcript;
  const list = [
    subject.transcript_object,
    subject.transcript_with_tool_calls,
    body.transcript_with_tool_calls,
    subject.message_with_tool_calls,
  ]
    .map(entries)
    .find((l) => l.length > 0);
  if (!list) return null;
  const label = (role: string) =>
    role.charAt(0).toUpperCase() + role.slice(1).replace(/_(.)/g, (_, c: string) => ` ${c}`);
  return list
    .filter((e) => SPOKEN.has(str(e.role)))
    .map((e) => `${label(str(e.role))}: ${str(e.content)}`)
    .join('\n');
}

/** Where a transfer goes, as Retell sends it: `{"number", "extension"}` (or, from older senders, a string). */
export interface TransferDestination {
  /** The number or SIP URI. */
  number: string | null;
  extension: string | null;
}

/** A transfer_destination as sent, read: an object's number and extension, or a string as the number. */
export function readTransferDestination(value: unknown): TransferDestination | null {
  if (typeof value === 'string') return value ? { number: value, extension: null } : null;
  if (!isObj(value)) return null;
  const part = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
  const number = part(value.number) ?? part(value.sip_uri) ?? part(value.uri);
  return { number, extension: part(value.extension) };
}

/**
 * Retell sends transfer_destination and transfer_option at the top level of a transfer event's body,
 * beside the call (its webhook docs' sample); `transfer_option` keeps Retell's camelCase keys. The
 * call object's own `transfer_destination` (a string, set once the call was transferred) is read
 * only when the body has none.
 */
export function transferFacts(body: unknown): {
  destination: TransferDestination | null;
  /** transfer_destination exactly as sent (object or string), null when absent. */
  destinationSent: unknown;
  option: unknown;
  turns: number;
  chars: number;
} {
  const top = isObj(body) ? body : {};
  const call = subjectObject(body);
  const sent = top.transfer_destination ?? call.transfer_destination ?? null;
  return {
    destination: readTransferDestination(sent),
    destinationSent: sent,
    option: top.transfer_option ?? call.transfer_option ?? null,
    turns: transcriptTurns(call, top),
    chars: transcriptLength(call, top),
  };
}

/**
 * The dedupe key of a delivery (and a snapshot's size). Retell's envelope has no event id, so:
 * - call_started/ended, chat_started/ended: `event:id`, one row per call (Retell's own advice);
 * - call_analyzed/chat_analyzed: `event:id:a:<hash of the analysis>`: a re-run analysis
 *   (PUT /rerun-call-analysis) is a new row, a redelivery of the same analysis is counted;
 * - transcript_updated: `event:id`, one row that keeps the longest snapshot (snapshotSize);
 * - transfer events: `event:id:<hash of destination and option as sent, and where in the
 *   conversation (turns, characters)>`: two transfers of one call are two rows (they differ in
 *   destination or in when they happened), a retry of one is counted;
 * - anything else: `event:id:<hash of the body>`, so distinct events are never merged while an
 *   identical retry still is. An event without a subject has an empty id.
 */
export function identifyDelivery(envelope: Envelope, body: unknown, rawBody: Buffer): DeliveryIdentity {
  const { event, subject } = envelope;
  const base = `${event}:${subject?.id ?? ''}`;
  const object = subjectObject(body);
  if (ANALYSIS_EVENTS.includes(event)) {
    const analysis = object.call_analysis ?? object.chat_analysis ?? null;
    return { dedupeKey: `${base}:a:${hash(stableJson(analysis))}`, snapshotSize: null };
  }
  if (isLifecycleEvent(event) || isChatEvent(event)) return { dedupeKey: base, snapshotSize: null };
  if (isSnapshotEvent(event))
    return { dedupeKey: base, snapshotSize: transcriptLength(object, isObj(body) ? body : {}) };
  if (isTransferEvent(event)) {
    const t = transferFacts(body);
    return {
      dedupeKey: `${base}:${hash(stableJson([t.destinationSent, t.option, t.turns, t.chars]))}`,
      snapshotSize: null,
    };
  }
  return { dedupeKey: `${base}:${hash(rawBody)}`, snapshotSize: null };
}

/**
 * Rows that reconciliation or discovery apply from Retell's API are keyed apart from Retell's own
 * deliveries: `api:` + the webhook's key. So a webhook that arrives after its event was applied from
 * the API is stored as its own delivery (and applied when it carries more, see HandlerResult),
 * never counted as a redelivery of callsync's own row; and the API's rows count 0 deliveries.
 */
export const API_KEY_PREFIX = 'api:';

export const apiDedupeKey = (key: string) => `${API_KEY_PREFIX}${key}`;

/** The key of the same event from the other source: a webhook's for an API row, and the reverse. */
export const counterpartKey = (key: string) =>
  key.startsWith(API_KEY_PREFIX) ? key.slice(API_KEY_PREFIX.length) : apiDedupeKey(key);
