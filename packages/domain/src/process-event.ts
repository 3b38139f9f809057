import { finishWebhookEvents, type Db, type WebhookEventStatus } from '@callsync/db';
import { PermanentEventError } from './errors';
import type { EventHandler, HandlerRegistry, StoredEvent } from './handlers';

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
  return (await processWebhookEventsBatch(db, [rowId], handlers)).get(rowId)!;
}

/**
 * processWebhookEvent for many rows in one transaction: one lock query, the handlers in call order
 * (so concurrent batches take session locks in the same order), one UPDATE per outcome. All or
 * nothing: if any event fails, the whole batch rolls back and the caller runs the rows one by one,
 * so each failure is recorded against its own event.
 */
export async function processWebhookEventsBatch(db: Db, rowIds: readonly string[], handlers: HandlerRegistry): Promise<Map<string, ProcessOutcome>> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('webhook_events').selectAll().where('id', 'in', [...rowIds]).orderBy('id').forUpdate().execute();
    if (rows.length !== new Set(rowIds).size) {
      const found = new Set(rows.map((r) => r.id));
      const missing = rowIds.filter((id) => !found.has(id));
      throw new PermanentEventError(`webhook_events row${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist`);
    }
    rows.sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : Number(a.id) - Number(b.id)));
    const results = new Map<string, ProcessOutcome>();
    const done: Record<'processed' | 'skipped', string[]> = { processed: [], skipped: [] };
    // Handlers that can take many events at once get them together (one call per handler).
    const batched = new Map<NonNullable<EventHandler['batch']>, StoredEvent[]>();
    for (const row of rows) {
      const base = { eventType: row.event_type, callId: row.event_id };
      if (row.status === 'processed' || row.status === 'skipped') {
        results.set(row.id, { outcome: 'already_final', status: row.status, ...base });
        continue;
      }
      const handler = Object.hasOwn(handlers, row.event_type) ? handlers[row.event_type] : undefined;
      const event: StoredEvent = { rowId: row.id, eventType: row.event_type, callId: row.event_id, payload: row.payload, receivedAt: row.created_at, source: row.source };
      if (handler?.batch) {
        const list = batched.get(handler.batch);
        if (list) list.push(event);
        else batched.set(handler.batch, [event]);
      } else if (handler) {
        await handler(trx, event);
      }
      const outcome = handler ? 'processed' : 'skipped';
      done[outcome].push(row.id);
      results.set(row.id, { outcome, ...base });
    }
    for (const [batch, events] of batched) await batch(trx, events);
    for (const status of ['processed', 'skipped'] as const) await finishWebhookEvents(trx, done[status], status);
    return results;
  });
}
