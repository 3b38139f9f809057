import { sql } from 'kysely';
import type { Db } from '../database';
import { applyBreakerRecord } from './apply-breaker';
import { armProbe } from './arm-probe';
import { breakerRecord, type BreakerDecision, type BreakerView } from './breaker-record';
import { nextHead, type ForwardHead } from './chain-heads';
import { fromNow } from './from-now';

/*
 * An attempt's answer and everything it changes, in one transaction: the attempt row, the delivery's
 * new state, the breaker's record on the destination and, when the delivery is finished, the chain's
 * next head. One transaction, so a crash never leaves an answer recorded without its consequence.
 * The usual answer (delivered, no probe) is one statement, and its next head is read after it
 * commits: a crash in between leaves that head without a job, for the outbox sweeper, as a crash
 * between the commit and the hand-off's enqueue always did. An answer is recorded only while the
 * delivery is still its claim's (`attempts` is the claim's token).
 * The breaker's verdict comes from `decide`, a pure function the caller passes in; this only applies it.
 */

export interface AttemptOutcome {
  deliveryId: string;
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** delivered; retry (with when); failed (final). */
  result: { kind: 'delivered' } | { kind: 'retry'; at: Date } | { kind: 'failed' };
  /** The attempt was the open breaker's probe. */
  probe?: boolean;
}

export interface AttemptRecorded {
  /** What the breaker did with this attempt (`keep`: nothing but the streak). */
  breaker: BreakerDecision['kind'];
  /** A retry: when it is due (a re-opened breaker's probe time may be later than the schedule's). */
  retryAt: Date | undefined;
  /** The chain's next delivery, now its head: it needs a job. */
  next: ForwardHead | undefined;
  /** The breaker's next probe, chosen now because this delivery finished: it needs a job. */
  probe: ForwardHead | undefined;
}

const NOTHING: AttemptRecorded = { breaker: 'keep', retryAt: undefined, next: undefined, probe: undefined };

/**
 * Record an attempt and its consequence in one transaction (a 2xx that was not a probe: one statement
 * and the next head after it, recordDelivered): the attempt row, the delivery's new state, the
 * destination's failure streak and what `decide` (the breaker's policy) makes of it, and, when the
 * delivery is finished, the chain's next head. Holding or releasing the destination's other
 * deliveries is left to the caller, in batches after this commits (holdPendingDeliveries,
 * releaseHeldDeliveries): a backlog must not make this transaction long.
 */
export async function recordAttempt(
  db: Db,
  o: AttemptOutcome,
  decide: (d: BreakerView) => BreakerDecision,
): Promise<AttemptRecorded> {
  if (o.result.kind === 'delivered' && o.probe !== true) return recordDelivered(db, o);
  return db.transaction().execute(async (trx) => {
    const success = o.result.kind === 'delivered';
    // A failure extends the destination's streak, and every failing sender queues on that row. Wait
    // for it before locking the delivery: a delivery locked while its sender queues would hold up
    // every apply that adds to the delivery's chain (chainHeads' FOR SHARE), and with it the
    // webhook_events rows that apply holds, so the ingress's redeliveries of them time out.
    const locked = !success || o.probe === true;
    const view = locked ? await lockBreakerView(trx, o.deliveryId) : undefined;
    const decision: BreakerDecision = view ? decide(view) : { kind: 'keep' };
    await trx
      .insertInto('forward_attempts')
      .values({
        delivery_id: o.deliveryId,
        attempt: o.attempt,
        status_code: o.statusCode,
        latency_ms: Math.round(o.latencyMs),
        error: o.error?.slice(0, 2000) ?? null,
        response_excerpt: o.responseExcerpt,
      })
      .execute();
    const r = o.result;
    // A retry of the attempt that opened the breaker becomes its probe: due no earlier than the probe time.
    const retryAt =
      r.kind !== 'retry'
        ? undefined
        : decision.kind === 'open'
          ? sql<Date>`greatest(${r.at}::timestamptz, ${fromNow(decision.probeInMs)})`
          : sql<Date>`${r.at}::timestamptz`;
    const delivery = await trx
      .updateTable('forward_deliveries')
      .set({
        status: r.kind === 'retry' ? 'pending' : r.kind,
        lease_until: null,
        last_status_code: o.statusCode,
        last_error: o.error?.slice(0, 2000) ?? null,
        ...(retryAt ? { next_attempt_at: retryAt } : { finished_at: sql<Date>`now()` }),
        ...(r.kind === 'delivered' ? { delivered_at: sql<Date>`now()` } : {}),
      })
      .where('id', '=', o.deliveryId)
      .where('status', '=', 'pending')
      .where('attempts', '=', o.attempt)
      .returning(['destination_id', 'subject', 'next_attempt_at'])
      .executeTakeFirst();
    // Paused, removed or replayed while this attempt ran, or claimed by another sender once this
    // one's lease lapsed (`attempts` moved on): the new state, and that sender's record, stand.
    if (!delivery) return NOTHING;
    const destinationId = delivery.destination_id;
    if (!locked) {
      // The streak ends. Only written when there was one: the destination row is every sender's, so a
      // write per delivery would queue them all behind it. (If it was paused meanwhile, the next
      // delivery's claim finds that and holds it.)
      await trx
        .updateTable('forward_destinations')
        .set({ consecutive_failures: 0 })
        .where('id', '=', destinationId)
        .where('consecutive_failures', '<>', 0)
        .execute();
    } else if (view) {
      const retried = r.kind === 'retry' ? o.deliveryId : null;
      await applyBreakerRecord(trx, destinationId, breakerRecord(view, success, decision, retried));
    }
    if (r.kind === 'retry')
      return { breaker: decision.kind, retryAt: delivery.next_attempt_at, next: undefined, probe: undefined };
    const probe = decision.kind === 'open' ? await armProbe(trx, destinationId) : undefined;
    const next = await nextHead(trx, destinationId, delivery.subject);
    return { breaker: decision.kind, retryAt: undefined, next: next?.id !== probe?.id ? next : undefined, probe };
  });
}

/**
 * The usual answer, a 2xx to a delivery that was not the breaker's probe, in one statement: the
 * attempt row, the delivery delivered, the destination's failure streak ended (written only when
 * there was one: the destination row is every sender's). The breaker has nothing to decide. Then the
 * chain's next head, read after that committed: an apply that added to the chain meanwhile either
 * committed first (its FOR SHARE on this delivery held the update back), and is read here, or found
 * this delivery finished, and gave its own delivery a job.
 */
async function recordDelivered(db: Db, o: AttemptOutcome): Promise<AttemptRecorded> {
  const error = o.error?.slice(0, 2000) ?? null;
  const { rows } = await sql<{ destination_id: string; subject: string }>`
    with attempt as (
      insert into forward_attempts (delivery_id, attempt, status_code, latency_ms, error, response_excerpt)
      values (${o.deliveryId}, ${o.attempt}, ${o.statusCode}, ${Math.round(o.latencyMs)}, ${error}, ${o.responseExcerpt})
    ), delivered as (
      update forward_deliveries set status = 'delivered', lease_until = null, last_status_code = ${o.statusCode},
        last_error = ${error}, finished_at = now(), delivered_at = now()
      where id = ${o.deliveryId} and status = 'pending' and attempts = ${o.attempt}
      returning destination_id, subject
    ), streak as (
      update forward_destinations set consecutive_failures = 0
      where id = (select destination_id from delivered) and consecutive_failures <> 0
    )
    select destination_id, subject from delivered`.execute(db);
  const delivery = rows[0];
  // Paused, removed or replayed meanwhile, or claimed by another sender: the new state stands.
  if (!delivery) return NOTHING;
  const next = await nextHead(db, delivery.destination_id, delivery.subject);
  return { breaker: 'keep', retryAt: undefined, next, probe: undefined };
}

/** The breaker's view of the delivery's destination, the row locked until the transaction ends. */
async function lockBreakerView(db: Db, deliveryId: string): Promise<BreakerView | undefined> {
  const { rows } = await sql<BreakerView>`
    select state, paused_by, consecutive_failures, breaker_threshold, breaker_opens from forward_destinations
    where id = (select destination_id from forward_deliveries where id = ${deliveryId})
    for no key update`.execute(db);
  return rows[0];
}
