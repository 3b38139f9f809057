import { type Db } from '@callsync/db';
import { recordDelivery } from '@callsync/db/events';
import { type ForwardHead } from '@callsync/db/forward';
import { apiDedupeKey, identifyDelivery } from '../events/delivery-identity';
import type { ProviderCall, ProviderChat } from '../events/provider';
import type { HandlerRegistry } from '../handlers';
import { processWebhookEvent } from '../process-event';

/** What the provider's API returned: a call (get-call, list-calls) or a chat (get-chat, list-chats). */
export type ProviderRecord = { kind: 'call'; call: ProviderCall } | { kind: 'chat'; chat: ProviderChat };

/**
 * Apply what the provider's API (Retell's) says about a call or chat through the webhook's handlers: record the event
 * in webhook_events (source `reconcile`, under `api:` + the webhook's key, counting 0 deliveries) and
 * process it. The real webhook, should it come later, is its own row: applied when it carries more
 * (a listing has no transcript), stored and skipped when it carries nothing new.
 */
export async function applyFromProvider(
  db: Db,
  record: ProviderRecord,
  events: readonly string[],
  handlers: HandlerRegistry,
  /** Gives the deliveries the apply queued for forwarding their jobs; without it, the sweeper does. */
  enqueueForwards?: (heads: ForwardHead[]) => Promise<void>,
): Promise<void> {
  const id = record.kind === 'call' ? record.call.call_id : record.chat.chat_id;
  for (const event of events) {
    const body = record.kind === 'call' ? { event, call: record.call } : { event, chat: record.chat };
    const text = JSON.stringify(body);
    const identity = identifyDelivery({ event, subject: { kind: record.kind, id } }, body, Buffer.from(text));
    const stored = await recordDelivery(db, {
      eventType: event,
      callId: record.kind === 'call' ? id : null,
      chatId: record.kind === 'chat' ? id : null,
      dedupeKey: apiDedupeKey(identity.dedupeKey),
      payloadJson: text,
      rawBody: null,
      signature: null,
      source: 'reconcile',
      snapshotSize: identity.snapshotSize,
      deliveryCount: 0,
    });
    // A row that failed earlier is applied now; if it fails again, this check fails with its error.
    const outcome = await processWebhookEvent(db, stored.id, handlers);
    if (outcome.outcome === 'processed' && outcome.forwards.length && enqueueForwards)
      await enqueueForwards(outcome.forwards).catch(() => {
        // Redis refused the jobs: the deliveries are committed in Postgres, and the outbox sweeper
        // adds the jobs of due deliveries that have none, so this is a delay, not a loss.
      });
  }
}
