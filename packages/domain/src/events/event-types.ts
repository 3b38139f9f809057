import {
  ANALYSIS_EVENTS,
  CALL_EVENTS,
  CHAT_EVENTS,
  LIFECYCLE_EVENTS,
  SNAPSHOT_EVENTS,
  TRANSFER_EVENTS,
  type ChatEvent,
  type LifecycleEvent,
  type TransferEvent,
} from '@callsync/retell';

export { ANALYSIS_EVENTS, CALL_EVENTS, CHAT_EVENTS, LIFECYCLE_EVENTS, SNAPSHOT_EVENTS, TRANSFER_EVENTS };
export type { ChatEvent, LifecycleEvent, TransferEvent };

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
