/** @callsync/db/events: Webhook events: the outbox rows the ingress records and the workers claim, the sweeper's reads. */
export type { WebhookEvent, WebhookEventStatus, WebhookEventSource, NewWebhookEvent } from '../webhook-event.table';
export { FINAL_STATUSES } from '../webhook-event.table';
export {
  recordDelivery,
  recordDeliveries,
  claimWebhookEvents,
  findAppliedKeys,
  markSkipped,
  findWebhookEventStatuses,
  recordWebhookEventFailure,
  findWebhookEvents,
  findPendingEvents,
  findEventsToReplay,
  markForReplay,
} from '../webhook-event.repository';
export type { Delivery, RecordedDelivery, ReplaySelection } from '../webhook-event.repository';
export { findPendingPage, oldestPendingEventId } from '../sweep.repository';
export type { PendingRow } from '../sweep.repository';
