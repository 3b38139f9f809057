/*
 * callsync's event kinds: the names events are stored (webhook_events.event_type), handled,
 * forwarded (a destination's events filter) and counted under. They are Retell's webhook event names,
 * so packages/retell passes them through as they are; a second provider's package translates its
 * own messages into these.
 */

/** Events that move a call through its lifecycle, in lifecycle order. */
export const LIFECYCLE_EVENTS = ['call_started', 'call_ended', 'call_analyzed'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

/** Sent on every turn; each delivery is the newest snapshot of the same thing. */
export const SNAPSHOT_EVENTS: readonly string[] = ['transcript_updated'];

/** Several per call are possible (a call can transfer more than once). */
export const TRANSFER_EVENTS = [
  'transfer_started',
  'transfer_bridged',
  'transfer_cancelled',
  'transfer_ended',
] as const;
export type TransferEvent = (typeof TRANSFER_EVENTS)[number];

/** Every call event: the body carries a `call` object. */
export const CALL_EVENTS: readonly string[] = [...LIFECYCLE_EVENTS, ...SNAPSHOT_EVENTS, ...TRANSFER_EVENTS];

/** A chat's events, in lifecycle order: the body carries a `chat` object and no `call`. */
export const CHAT_EVENTS = ['chat_started', 'chat_ended', 'chat_analyzed'] as const;
export type ChatEvent = (typeof CHAT_EVENTS)[number];

/** Events whose content can change between deliveries of the same kind: a re-run analysis. */
export const ANALYSIS_EVENTS: readonly string[] = ['call_analyzed', 'chat_analyzed'];

/** Every event kind a webhook may carry. */
export const WEBHOOK_EVENTS: readonly string[] = [...CALL_EVENTS, ...CHAT_EVENTS];

export function isLifecycleEvent(event: string): event is LifecycleEvent {
  return (LIFECYCLE_EVENTS as readonly string[]).includes(event);
}

export function isChatEvent(event: string): event is ChatEvent {
  return (CHAT_EVENTS as readonly string[]).includes(event);
}

export function isTransferEvent(event: string): event is TransferEvent {
  return (TRANSFER_EVENTS as readonly string[]).includes(event);
}

export function isSnapshotEvent(event: string): boolean {
  return SNAPSHOT_EVENTS.includes(event);
}
