import { createHash } from 'node:crypto';
import type { Envelope } from './envelope';
import { isLifecycleEvent, SNAPSHOT_EVENTS, TRANSFER_EVENTS } from './event-types';

/**
 * The key that makes a redelivery the same row:
 * - lifecycle and snapshot events: `event:call_id` (Retell's own advice; one row per call);
 * - transfer events: `event:call_id:timestamp` (a call can transfer more than once);
 * - anything else: `event:call_id:sha256(body)`, so distinct events are never merged while an
 *   identical retry still is.
 * Transfer events without a timestamp fall back to the body hash too.
 */
export function dedupeKeyFor(envelope: Envelope, rawBody: Buffer): string {
  const base = `${envelope.event}:${envelope.call.call_id}`;
  if (isLifecycleEvent(envelope.event) || SNAPSHOT_EVENTS.includes(envelope.event)) return base;
  if (TRANSFER_EVENTS.includes(envelope.event) && envelope.timestamp !== undefined)
    return `${base}:${envelope.timestamp}`;
  return `${base}:${createHash('sha256').update(rawBody).digest('hex')}`;
}

export function isSnapshotEvent(event: string): boolean {
  return SNAPSHOT_EVENTS.includes(event);
}
