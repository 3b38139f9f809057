import { WEBHOOK_EVENTS } from '@callsync/domain';

export const KNOWN_EVENTS: ReadonlySet<string> = new Set(WEBHOOK_EVENTS);

/** Event names come from request bodies; keep label values to a known set. */
export function eventLabel(event: string | undefined): string {
  if (!event) return 'unknown';
  return KNOWN_EVENTS.has(event) ? event : 'other';
}

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'bad_signature' | 'invalid' | 'unavailable';
export type HandlingOutcome = 'processed' | 'skipped' | 'failed' | 'retry' | 'already_final';

/** The delivery outcome an answer stands for, when the route did not say. */
export function outcomeForStatus(status: number): DeliveryOutcome | 'error' {
  if (status === 401) return 'bad_signature';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid';
  if (status < 300) return 'accepted';
  return 'error';
}
