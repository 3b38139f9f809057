import { finishWebhookEvent, lockWebhookEvent, type Db, type WebhookEventStatus } from '@callsync/db';
import { PermanentEventError } from './errors';
import type { HandlerRegistry } from './handlers';

export type ProcessOutcome =
  | { outcome: 'processed' | 'skipped'; eventType: string; callId: string }
  | { outcome: 'already_final'; status: Extract<WebhookEventStatus, 'processed' | 'skipped'>; eventType: string; callId: string };

/**
 * Apply one stored event and mark it, in one transaction: either both the call record and the
 * status change commit, or neither does. A row already applied (processed or skipped) is left
 * alone, so running this twice for the same row (a redelivered job, a worker taking over a
 * stalled one) has one effect. A `failed` row is applied: that is what retrying it means.
 */
export async function processWebhookEvent(db: Db, rowId: string, handlers: HandlerRegistry): Promise<ProcessOutcome> {
  return db.transaction().execute(async (trx) => {
    const row = await lockWebhookEvent(trx, rowId);
    if (!row) throw new PermanentEventError(`webhook_events row ${rowId} does not exist`);
    const base = { eventType: row.event_type, callId: row.event_id };
    // A failed row was never applied (its transaction rolled back), so a retry may apply it now.
    if (row.status === 'processed' || row.status === 'skipped') return { outcome: 'already_final', status: row.status, ...base };
    const handler = Object.hasOwn(handlers, row.event_type) ? handlers[row.event_type] : undefined;
    if (!handler) {
      await finishWebhookEvent(trx, rowId, 'skipped');
      return { outcome: 'skipped', ...base };
    }
    await handler(trx, {
      rowId,
      eventType: row.event_type,
      callId: row.event_id,
      payload: row.payload,
      receivedAt: row.created_at,
      source: row.source,
    });
    await finishWebhookEvent(trx, rowId, 'processed');
    return { outcome: 'processed', ...base };
  });
}
