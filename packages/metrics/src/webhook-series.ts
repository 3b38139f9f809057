import { counter, histogram } from './series';

/** The webhook path: deliveries at the ingress, events applied by the worker. */
export const webhookSeries = {
  deliveries: counter(
    'callsync_webhook_deliveries_total',
    'Webhook deliveries by event and outcome (accepted, duplicate, bad_signature, invalid, unavailable).',
    ['event', 'outcome'],
  ),
  ackLatency: histogram(
    'callsync_webhook_ack_seconds',
    'Time from request to answer on the webhook path, by outcome.',
    ['outcome'],
    [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
  /** The public edge's refusals before a body is accepted (issue 27). */
  edgeRefusals: counter(
    'callsync_ingress_refused_total',
    'Requests the ingress refused before accepting their body, by reason (bad_signature, throttled, too_large, unverified_full, body_timeout).',
    ['reason'],
  ),
  eventsHandled: counter(
    'callsync_events_handled_total',
    'Webhook events handled by workers, by event type and outcome (processed, skipped, failed, retry).',
    ['event', 'outcome'],
  ),
  processingDuration: histogram(
    'callsync_event_processing_seconds',
    'Time to apply one event (one transaction), by event type.',
    ['event'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  ),
};
