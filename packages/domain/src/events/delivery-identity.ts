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

/** How far the conversation had got: the transcript's characters (the live transcript's measure). */
export function transcriptLength(subject: Obj): number {
  return typeof subject.transcript === 'string' ? subject.transcript.length : 0;
}

/** Turns so far (transcript_object entries). */
export function transcriptTurns(subject: Obj): number {
  return Array.isArray(subject.transcript_object) ? subject.transcript_object.length : 0;
}

/**
 * Retell sends transfer_destination and transfer_option beside the call data; accept them at the top
 * level or inside the call object, whichever the body has.
 */
export function transferFacts(body: unknown): {
  destination: string | null;
  option: unknown;
  turns: number;
  chars: number;
} {
  const top = isObj(body) ? body : {};
  const call = subjectObject(body);
  const destination = top.transfer_destination ?? call.transfer_destination;
  return {
    destination: typeof destination === 'string' ? destination : null,
    option: top.transfer_option ?? call.transfer_option ?? null,
    turns: transcriptTurns(call),
    chars: transcriptLength(call),
  };
}

/**
 * The dedupe key of a delivery (and a snapshot's size). Retell's envelope has no event id, so:
 * - call_started/ended, chat_started/ended: `event:id`, one row per call (Retell's own advice);
 * - call_analyzed/chat_analyzed: `event:id:a:<hash of the analysis>`: a re-run analysis
 *   (PUT /rerun-call-analysis) is a new row, a redelivery of the same analysis is counted;
 * - transcript_updated: `event:id`, one row that keeps the longest snapshot (snapshotSize);
 * - transfer events: `event:id:<hash of destination, option and where in the conversation>`: two
 *   transfers of one call are two rows, a retry of one is counted;
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
  if (isSnapshotEvent(event)) return { dedupeKey: base, snapshotSize: transcriptLength(object) };
  if (isTransferEvent(event)) {
    const t = transferFacts(body);
    return {
      dedupeKey: `${base}:${hash(stableJson([t.destination, t.option, t.turns, t.chars]))}`,
      snapshotSize: null,
    };
  }
  return { dedupeKey: `${base}:${hash(rawBody)}`, snapshotSize: null };
}
