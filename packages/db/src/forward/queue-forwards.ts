import { sql } from 'kysely';
import type { Db } from '../database';
import type { ForwardStatus } from '../forward.table';
import { chainHeads, type ForwardHead } from './chain-heads';
import { matching, messageId, sessionBody } from './delivery-source';
import { replaceUnsentTranscripts } from './replace-transcripts';

/*
 * The outbox (forward_deliveries) is written in the transaction that applies an event, so an applied
 * event always has its deliveries and a rolled-back one never does. Sending happens later, from a
 * job per chain head: this returns the heads that need one.
 */

/** A delivery queueForwards wrote, and the applied row it forwards. */
export interface QueuedForward extends ForwardHead {
  webhook_event_id: string;
}

/**
 * Write the outbox for applied rows: one delivery per matching destination (event type, company),
 * `held` when the destination is paused. Session-mode bodies are the session row as it stands now,
 * inside the applying transaction. Applying a row again adds nothing (unique per event, snapshot
 * and destination). A longer transcript_updated snapshot takes over the delivery of an older one
 * that is still unsent (replaceUnsentTranscripts). Returns the new deliveries that head their
 * chain: these need a job.
 */
export async function queueForwards(db: Db, webhookEventIds: readonly string[]): Promise<QueuedForward[]> {
  if (webhookEventIds.length === 0) return [];
  await replaceUnsentTranscripts(db, webhookEventIds);
  const { rows: inserted } = await sql<QueuedForward & { status: ForwardStatus }>`
    insert into forward_deliveries
      (destination_id, webhook_event_id, revision, subject, event_type, company_id, status, payload, message_id)
    select d.id, e.id, coalesce(e.snapshot_size, 0), coalesce(e.call_id, e.chat_id), e.event_type,
      coalesce(cs.company_id, ch.company_id),
      case when d.state = 'active' then 'pending' else 'held' end,
      ${sessionBody}, ${messageId}
    ${matching(webhookEventIds)}
    order by e.id, d.id
    on conflict (webhook_event_id, revision, destination_id) do nothing
    returning id, destination_id, subject, event_type, webhook_event_id, status`.execute(db);
  const fresh = inserted.filter((r) => r.status === 'pending');
  if (fresh.length === 0) return [];
  return chainHeads(db, fresh);
}
