import type { Db } from '../database';
import type { CallSession } from '../call-session.table';
import type { ChatSession } from '../chat-session.table';
import type { WebhookEvent } from '../webhook-event.table';

/*
 * Whole-table reads for checking a whole run (`make chaos`, tests): small databases only, so they
 * stay out of the production exports.
 */

/** Every event row. */
export async function findAllWebhookEvents(
  db: Db,
): Promise<
  Pick<
    WebhookEvent,
    'id' | 'event_type' | 'call_id' | 'chat_id' | 'dedupe_key' | 'status' | 'delivery_count' | 'payload' | 'created_at'
  >[]
> {
  return db
    .selectFrom('webhook_events')
    .select([
      'id',
      'event_type',
      'call_id',
      'chat_id',
      'dedupe_key',
      'status',
      'delivery_count',
      'payload',
      'created_at',
    ])
    .execute();
}

/** Every call session row. */
export async function findAllCallSessions(db: Db): Promise<CallSession[]> {
  return db.selectFrom('retell_call_sessions').selectAll().execute();
}

/** Every chat session row. */
export async function findAllChatSessions(db: Db): Promise<ChatSession[]> {
  return db.selectFrom('retell_chat_sessions').selectAll().execute();
}
