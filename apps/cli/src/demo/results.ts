import { type Db } from '@callsync/db';
import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import type { CallTransfer } from '@callsync/domain';

/** A session's transfers as "number ext N: outcome", in order. */
function describeTransfers(transfers: unknown): string {
  if (!Array.isArray(transfers) || transfers.length === 0) return '';
  return (transfers as CallTransfer[])
    .map((t) => `${t.destination ?? '?'}${t.extension ? ` ext ${t.extension}` : ''}: ${t.outcome}`)
    .join('; ');
}

/** What became of the demo's deliveries: its call sessions, chat sessions and webhook events, as tables. */
export async function printResults(db: Db, ids: string[], chatIds: string[]): Promise<void> {
  console.log('\nretell_call_sessions');
  const sessions = [];
  for (const id of ids) {
    const s = await findCallSession(db, id);
    if (!s) continue;
    const { call_id, call_status, company_id, from_number, caller_withheld, duration_ms, disconnection_reason } = s;
    sessions.push({
      call_id,
      call_status,
      company_id,
      from_number,
      caller_withheld,
      duration_ms,
      disconnection_reason,
      transfers: describeTransfers(s.transfers),
      call_successful: s.call_successful,
      call_summary: s.call_summary ? `${s.call_summary.slice(0, 40)}${s.call_summary.length > 40 ? '…' : ''}` : null,
    });
  }
  console.table(sessions);
  console.log('retell_chat_sessions');
  const chats = [];
  for (const id of chatIds) {
    const c = await findChatSession(db, id);
    if (c)
      chats.push({
        chat_id: c.chat_id,
        chat_type: c.chat_type,
        chat_status: c.chat_status,
        chat_successful: c.chat_successful,
        user_sentiment: c.user_sentiment,
      });
  }
  console.table(chats);
  console.log('webhook_events');
  const events = [];
  for (const [id, chat] of [...ids.map((i) => [i, false] as const), ...chatIds.map((i) => [i, true] as const)]) {
    for (const e of await findWebhookEvents(db, id, { chat })) {
      const { event_type, status, delivery_count, attempts, error } = e;
      events.push({ id: e.id, subject: e.call_id ?? e.chat_id, event_type, status, delivery_count, attempts, error });
    }
  }
  console.table(events);
}
