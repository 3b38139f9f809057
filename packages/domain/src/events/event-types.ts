import { LIFECYCLE_EVENTS, SNAPSHOT_EVENTS, TRANSFER_EVENTS, type LifecycleEvent } from '@callsync/retell';

export { LIFECYCLE_EVENTS, SNAPSHOT_EVENTS, TRANSFER_EVENTS, type LifecycleEvent };

export function isLifecycleEvent(event: string): event is LifecycleEvent {
  return (LIFECYCLE_EVENTS as readonly string[]).includes(event);
}
