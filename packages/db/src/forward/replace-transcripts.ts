import { sql } from 'kysely';
import type { Db } from '../database';
import { matching, messageId, sessionBody } from './delivery-source';

/*
 * transcript_updated arrives again and again during a call, each snapshot longer than the last. A
 * delivery per snapshot would make storage grow with the square of the call; a longer snapshot
 * instead takes over the unsent delivery of an older one, keeping its place in the chain, so
 * storage grows with the call. Runs in the applying transaction, before queueForwards inserts.
 */

/**
 * A longer transcript_updated snapshot among `webhookEventIds` takes over the delivery of an older
 * one that is still unsent (pending or held, and not in flight) for the same call and destination:
 * its revision, session-mode body and webhook-id become the new snapshot's.
 */
export async function replaceUnsentTranscripts(db: Db, webhookEventIds: readonly string[]): Promise<void> {
  await sql`
    with fresh as (
      select e.id as event_id, d.id as destination_id, coalesce(e.snapshot_size, 0) as revision,
        ${sessionBody} as payload, ${messageId} as message_id
      ${matching(webhookEventIds)} and e.event_type = 'transcript_updated'
    )
    update forward_deliveries f set revision = fresh.revision, payload = fresh.payload, message_id = fresh.message_id
    from fresh
    where f.webhook_event_id = fresh.event_id and f.destination_id = fresh.destination_id
      and f.revision < fresh.revision and f.status in ('pending', 'held')
      and (f.lease_until is null or f.lease_until <= now())`.execute(db);
}
