import { recordDelivery, type Db } from '@callsync/db';
import type { ApiCall } from '@callsync/retell';
import { dedupeKeyFor } from '../events/dedupe-key';
import type { LifecycleEvent } from '../events/event-types';
import type { HandlerRegistry } from '../handlers';
import { processWebhookEvent } from '../process-event';

/**
 * Apply what Retell's API says about a call exactly as if the webhook had arrived: record the
 * event in webhook_events (source `reconcile`, same dedupe key as the webhook, so the real webhook
 * later only counts as a redelivery) and process it through the same handlers.
 */
export async function applyFromRetell(
  db: Db,
  call: ApiCall,
  events: readonly LifecycleEvent[],
  handlers: HandlerRegistry,
): Promise<void> {
  for (const event of events) {
    const body = JSON.stringify({ event, call });
    const envelope = { event, call };
    const stored = await recordDelivery(db, {
      eventType: event,
      callId: call.call_id,
      dedupeKey: dedupeKeyFor(envelope, Buffer.from(body)),
      payloadJson: body,
      rawBody: null,
      signature: null,
      source: 'reconcile',
    });
    // A row that failed earlier is applied now; if it fails again, this check fails with its error.
    await processWebhookEvent(db, stored.id, handlers);
  }
}
