import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { type Db } from '@callsync/db';
import { recordDelivery, type Delivery } from '@callsync/db/events';
import { sampleWebhookBody, type SampleCallOptions, type SampleEvent } from '@callsync/retell';

export const LIFECYCLE: SampleEvent[] = ['call_started', 'call_ended', 'call_analyzed'];

export function newCallId(label = 'call'): string {
  return `${label}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** A fixed start, so the same call's bodies are identical across deliveries and test runs. */
export const START_MS = Date.UTC(2025, 9, 24, 9, 44, 44);

export function body(event: SampleEvent, o: Partial<SampleCallOptions> & { callId: string }): string {
  return sampleWebhookBody({ startMs: START_MS, ...o }, event);
}

export function permutations<T>(xs: readonly T[]): T[][] {
  return xs.length <= 1
    ? [[...xs]]
    : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** A delivery of `event` for the call as the ingress records it (`raw`: another body than the sample's). */
export function delivery(event: string, callId: string, raw = body(event as SampleEvent, { callId })): Delivery {
  return {
    eventType: event,
    callId,
    dedupeKey: `${event}:${callId}`,
    payloadJson: raw,
    rawBody: Buffer.from(raw),
    signature: 'v=1,d=x',
    source: 'webhook',
  };
}

/** Store an event as the ingress would (a pending row, no job); its row id. */
export async function storeEvent(db: Db, event: SampleEvent, callId: string): Promise<string> {
  return (await recordDelivery(db, delivery(event, callId))).id;
}

/** Store an event as the ingress would, then age it: `status`, received `ageMinutes` ago (and applied then, unless pending). */
export async function storeAgedEvent(
  db: Db,
  event: SampleEvent,
  callId: string,
  status = 'pending',
  ageMinutes = 1,
): Promise<string> {
  const id = await storeEvent(db, event, callId);
  await sql`update webhook_events set status = ${status}, created_at = now() - make_interval(mins => ${ageMinutes}), processed_at = case when ${status} = 'pending' then null else now() - make_interval(mins => ${ageMinutes}) end where id = ${id}`.execute(
    db,
  );
  return id;
}
