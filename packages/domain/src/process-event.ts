import { type Db } from '@callsync/db';
import {
  claimWebhookEvents,
  findWebhookEventStatuses,
  markSkipped,
  type WebhookEventStatus,
} from '@callsync/db/events';
import { queueForwards, type ForwardHead } from '@callsync/db/forward';
import { PermanentEventError, RowBusyError } from './errors';
import type { EventHandler, HandlerRegistry, HandlerResult, SkippedEvent, StoredEvent } from './handlers';

export type ProcessOutcome =
  | {
      outcome: 'processed' | 'skipped';
      eventType: string;
      callId: string | null;
      chatId: string | null;
      /** Deliveries to the team's destinations this apply queued that head their chain: they need a job. */
      forwards: ForwardHead[];
    }
  | {
      outcome: 'already_final';
      status: Extract<WebhookEventStatus, 'processed' | 'skipped'>;
      eventType: string;
      callId: string | null;
      chatId: string | null;
    };

/**
 * Apply one stored event and mark it, in one transaction: either both the call record and the
 * status change commit, or neither does. A row already applied (processed or skipped) is left
 * alone, so running this twice for the same row (a redelivered job, a worker taking over a
 * stalled one) has one effect. A `failed` row is applied: that is what retrying it means.
 * Applying also queues the event's deliveries to forwarding destinations, in the same transaction.
 */
export async function processWebhookEvent(db: Db, rowId: string, handlers: HandlerRegistry): Promise<ProcessOutcome> {
  return (await processWebhookEventsBatch(db, [rowId], handlers)).get(rowId)!;
}

/**
 * processWebhookEvent for many rows in one transaction: one statement claims (locks and marks) the
 * rows, then the handlers run in call order (so concurrent batches take session locks in the same
 * order). All or nothing: if any event fails, the whole batch rolls back, marks included, and the
 * caller runs the rows one by one, so each failure is recorded against its own event.
 */
export async function processWebhookEventsBatch(
  db: Db,
  rowIds: readonly string[],
  handlers: HandlerRegistry,
): Promise<Map<string, ProcessOutcome>> {
  const handledTypes = Object.keys(handlers).filter((type) => typeof handlers[type] === 'function');
  return db.transaction().execute(async (trx) => {
    const rows = await claimWebhookEvents(trx, rowIds, handledTypes);
    const results = new Map<string, ProcessOutcome>();
    const claimed = new Set(rows.map((r) => r.id));
    const unclaimed = [...new Set(rowIds)].filter((id) => !claimed.has(id));
    if (unclaimed.length > 0) {
      // Already applied (a redelivered job, a worker taking over a stalled one), or not there at all.
      const found = await findWebhookEventStatuses(trx, unclaimed);
      const missing = unclaimed.filter((id) => !found.some((r) => r.id === id));
      if (missing.length > 0) {
        throw new PermanentEventError(
          `webhook_events row${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist`,
        );
      }
      for (const r of found) {
        if (r.status !== 'processed' && r.status !== 'skipped')
          throw new RowBusyError(
            `webhook_events row ${r.id} is ${r.status} but another transaction holds it; retrying`,
          );
        results.set(r.id, {
          outcome: 'already_final',
          status: r.status,
          eventType: r.event_type,
          callId: r.call_id,
          chatId: r.chat_id,
        });
      }
    }
    const subject = (r: (typeof rows)[number]) => r.call_id ?? r.chat_id ?? '';
    rows.sort((a, b) => (subject(a) < subject(b) ? -1 : subject(a) > subject(b) ? 1 : Number(a.id) - Number(b.id)));
    // Handlers that can take many events at once get them together (one call per handler), in the
    // registry's order, so every transaction locks the session tables in the same order.
    const batched = new Map<NonNullable<EventHandler['batch']>, StoredEvent[]>();
    const skipped = new Map<string, SkippedEvent>();
    const skip = (list: HandlerResult) => {
      for (const e of list ?? []) skipped.set(e.rowId, e);
    };
    for (const h of Object.values(handlers)) if (h.batch && !batched.has(h.batch)) batched.set(h.batch, []);
    for (const row of rows) {
      results.set(row.id, {
        outcome: row.status,
        eventType: row.event_type,
        callId: row.call_id,
        chatId: row.chat_id,
        forwards: [],
      });
      if (row.status === 'skipped') continue;
      const handler = handlers[row.event_type]!;
      const event: StoredEvent = {
        rowId: row.id,
        eventType: row.event_type,
        callId: row.call_id,
        chatId: row.chat_id,
        payload: row.payload,
        receivedAt: row.created_at,
        source: row.source,
        dedupeKey: row.dedupe_key,
      };
      if (handler.batch) {
        batched.get(handler.batch)!.push(event);
      } else {
        skip(await handler(trx, event));
      }
    }
    for (const [batch, events] of batched) if (events.length) skip(await batch(trx, events));
    if (skipped.size > 0) {
      await markSkipped(trx, [...skipped.values()]);
      for (const id of skipped.keys()) {
        const r = results.get(id);
        if (r?.outcome === 'processed') r.outcome = 'skipped';
      }
    }
    // The outbox, in this transaction: an applied event always has its deliveries queued, and an
    // event rolled back never does.
    const applied = rows.filter((r) => r.status === 'processed' && !skipped.has(r.id)).map((r) => r.id);
    for (const head of await queueForwards(trx, applied)) {
      const outcome = results.get(head.webhook_event_id);
      if (outcome?.outcome === 'processed') outcome.forwards.push(head);
    }
    return results;
  });
}
