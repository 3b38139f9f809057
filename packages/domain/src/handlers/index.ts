import type { HandlerRegistry } from './handler';
import { applyLifecycleEvent, applyLifecycleEvents } from './lifecycle.handler';

const lifecycle = Object.assign(applyLifecycleEvent, { batch: applyLifecycleEvents });

export const defaultHandlers: HandlerRegistry = Object.freeze({
  call_started: lifecycle,
  call_ended: lifecycle,
  call_analyzed: lifecycle,
});

export type { EventHandler, HandlerRegistry, StoredEvent } from './handler';
