import type { HandlerRegistry } from './handler';
import { applyLifecycleEvent } from './lifecycle.handler';

export const defaultHandlers: HandlerRegistry = Object.freeze({
  call_started: applyLifecycleEvent,
  call_ended: applyLifecycleEvent,
  call_analyzed: applyLifecycleEvent,
});

export type { EventHandler, HandlerRegistry, StoredEvent } from './handler';
