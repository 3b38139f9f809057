export { PermanentEventError, RowBusyError } from './errors';
export { LIFECYCLE_EVENTS, isLifecycleEvent } from './events/event-types';
export type { LifecycleEvent } from './events/event-types';
export { parseEnvelope } from './events/envelope';
export type { Envelope, EnvelopeResult } from './events/envelope';
export { dedupeKeyFor, isSnapshotEvent } from './events/dedupe-key';
export { parseCall } from './events/call';
export type { RetellCall } from './events/call';
export { mergeSession, patchFromEvent, LIFECYCLE_RANK } from './call-state';
export type { SessionState, SessionPatch } from './call-state';
export { defaultHandlers } from './handlers';
export type { EventHandler, HandlerRegistry, StoredEvent } from './handlers';
export { processWebhookEvent, processWebhookEventsBatch } from './process-event';
export type { ProcessOutcome } from './process-event';
export { runReconcilePass } from './reconcile/reconcile-pass';
export type {
  CallOutcome,
  CallReport,
  ReconcileDeps,
  ReconcileOptions,
  ReconcileSummary,
} from './reconcile/reconcile-pass';
