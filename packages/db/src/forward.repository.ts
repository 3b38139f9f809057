import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';
import type { ForwardDelivery, ForwardDestination, ForwardStatus, PayloadMode } from './forward.table';

/*
 * Forwarding to the team's destinations. The outbox (forward_deliveries) is written in the
 * transaction that applies an event (queueForwards), so an applied event always has its deliveries
 * and a rolled-back one never does. Deliveries of one subject (call or chat) to one destination form
 * a chain that is sent in id order: only its head, the oldest delivery still pending or held, is sent.
 */

/** A chain head that should have a job: the forwarder's queue needs only these fields. */
export interface ForwardHead {
  id: string;
  destination_id: string;
  subject: string;
  event_type: string;
}

/** A delivery queueForwards wrote, and the applied row it forwards. */
export interface QueuedForward extends ForwardHead {
  webhook_event_id: string;
}

export interface NewDestination {
  url: string;
  events: readonly string[];
  companyId: string | null;
  payloadMode: PayloadMode;
  secret: string;
  rateLimitPerSecond: number | null;
  breakerThreshold: number;
  allowLinkLocal: boolean;
  allowPrivate: boolean;
  description: string | null;
}

export async function addDestination(db: Db, d: NewDestination): Promise<ForwardDestination> {
  return db
    .insertInto('forward_destinations')
    .values({
      url: d.url,
      events: [...d.events],
      company_id: d.companyId,
      payload_mode: d.payloadMode,
      secret: d.secret,
      rate_limit_per_second: d.rateLimitPerSecond,
      breaker_threshold: d.breakerThreshold,
      allow_link_local: d.allowLinkLocal,
      allow_private: d.allowPrivate,
      description: d.description,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDestination(db: Db, id: string): Promise<ForwardDestination | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return db.selectFrom('forward_destinations').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface DestinationSummary extends ForwardDestination {
  pending: number;
  held: number;
  delivered: number;
  failed: number;
  oldest_pending_at: Date | null;
}

/** Every destination not removed (with `all`, removed ones too), with its delivery counts. */
export async function listDestinations(db: Db, options: { all?: boolean } = {}): Promise<DestinationSummary[]> {
  const { rows } = await sql<DestinationSummary>`
    select d.*,
      coalesce(c.pending, 0)::int as pending, coalesce(c.held, 0)::int as held,
      coalesce(c.delivered, 0)::int as delivered, coalesce(c.failed, 0)::int as failed, c.oldest_pending_at
    from forward_destinations d
    left join lateral (
      select count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'held') as held,
        count(*) filter (where status = 'delivered') as delivered,
        count(*) filter (where status = 'failed') as failed,
        min(created_at) filter (where status in ('pending', 'held')) as oldest_pending_at
      from forward_deliveries f where f.destination_id = d.id
    ) c on true
    where ${options.all ? sql`true` : sql`d.state <> 'removed'`}
    order by d.id`.execute(db);
  return rows;
}

/**
 * Write the outbox for applied rows: one delivery per matching destination (event type, company),
 * `held` when the destination is paused. Session-mode bodies are the session row as it stands now,
 * inside the applying transaction. Applying a row again adds nothing (unique per event, snapshot
 * and destination). Returns the new deliveries that head their chain: these need a job.
 */
export async function queueForwards(db: Db, webhookEventIds: readonly string[]): Promise<QueuedForward[]> {
  if (webhookEventIds.length === 0) return [];
  const { rows: inserted } = await sql<QueuedForward & { status: ForwardStatus }>`
    insert into forward_deliveries
      (destination_id, webhook_event_id, revision, subject, event_type, company_id, status, payload)
    select d.id, e.id, coalesce(e.snapshot_size, 0), coalesce(e.call_id, e.chat_id), e.event_type,
      coalesce(cs.company_id, ch.company_id),
      case when d.state = 'active' then 'pending' else 'held' end,
      case when d.payload_mode = 'session' then jsonb_build_object(
        'type', e.event_type,
        'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', coalesce(to_jsonb(cs), to_jsonb(ch))) end
    from webhook_events e
    left join retell_call_sessions cs on cs.call_id = e.call_id
    left join retell_chat_sessions ch on ch.chat_id = e.chat_id
    join forward_destinations d on d.state <> 'removed' and e.event_type = any(d.events)
      and (d.company_id is null or d.company_id = coalesce(cs.company_id, ch.company_id))
    where e.id = any(${[...webhookEventIds]}::bigint[]) and coalesce(e.call_id, e.chat_id) is not null
    order by e.id, d.id
    on conflict (webhook_event_id, revision, destination_id) do nothing
    returning id, destination_id, subject, event_type, webhook_event_id, status`.execute(db);
  const fresh = inserted.filter((r) => r.status === 'pending');
  if (fresh.length === 0) return [];
  return chainHeads(db, fresh);
}

/**
 * Which of `candidates` head their chain. Locks the chains' unfinished deliveries (FOR SHARE), so a
 * forwarder finishing the previous head concurrently either commits first (and this sees it
 * finished) or waits for this transaction (and then finds these candidates as the next head).
 */
async function chainHeads<H extends ForwardHead>(db: Db, candidates: readonly H[]): Promise<H[]> {
  const { rows } = await sql<{ id: string; destination_id: string; subject: string }>`
    select id, destination_id, subject from forward_deliveries
    where (destination_id, subject) in (
      select * from unnest(${candidates.map((c) => c.destination_id)}::bigint[], ${candidates.map((c) => c.subject)}::text[]))
      and status in ('pending', 'held')
    order by id
    for share`.execute(db);
  const heads = new Set<string>();
  const seen = new Set<string>();
  for (const r of rows) {
    const chain = `${r.destination_id}\u0000${r.subject}`;
    if (seen.has(chain)) continue;
    seen.add(chain);
    heads.add(r.id);
  }
  return candidates.filter((c) => heads.has(c.id));
}

export type ClaimResult =
  | { kind: 'gone' }
  | { kind: 'final'; status: ForwardStatus }
  | { kind: 'held' }
  | { kind: 'cancelled' }
  /** An earlier delivery of its chain is not finished: that one's completion hands this one on. */
  | { kind: 'waiting' }
  /** Not due yet (a lease of another sender, or the next retry): come back then. */
  | { kind: 'later'; at: Date }
  | { kind: 'send'; delivery: ClaimedDelivery; destination: ForwardDestination };

export interface ClaimedDelivery extends ForwardDelivery {
  /** What to send: the session-mode payload, or the event's body as Retell sent it. */
  body: string | null;
}

/** What a claimed delivery sends: its session-mode body, else the event's body as received. */
const claimedBody = sql`case when f.payload is not null then f.payload::text else (
  select coalesce(convert_from(e.raw_body, 'UTF8'), e.payload::text) from webhook_events e
  where e.id = f.webhook_event_id) end`;

/**
 * Take a delivery for one attempt: checks it is pending, its destination active, it heads its
 * chain and is due, then leases it for `leaseMs` and counts the attempt.
 */
export async function claimDelivery(db: Db, id: string, leaseMs: number): Promise<ClaimResult> {
  // The usual case in one statement (its own transaction): due, pending, destination active, head of
  // its chain, not leased. Anything else is sorted out below.
  const fast = await lease(
    db,
    id,
    leaseMs,
    sql`join forward_destinations d on d.id = f.destination_id and d.state = 'active'
      where f.id = ${id} and f.status = 'pending'
        and (f.lease_until is null or f.lease_until <= now())
        and f.next_attempt_at <= now() + interval '1 second'
        and not exists (select 1 from forward_deliveries p where p.destination_id = f.destination_id
          and p.subject = f.subject and p.status in ('pending', 'held') and p.id < f.id)
      for update of f skip locked`,
  );
  if (fast) return { kind: 'send', delivery: fast, destination: (await findDestination(db, fast.destination_id))! };
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<ForwardDelivery & { now: Date }>`
      select f.*, now() as now from forward_deliveries f where f.id = ${id} for update`.execute(trx);
    const d = rows[0];
    if (!d) return { kind: 'gone' as const };
    if (d.status !== 'pending') return { kind: 'final' as const, status: d.status };
    const destination = (await findDestination(trx, d.destination_id))!;
    if (destination.state !== 'active') {
      const status = destination.state === 'paused' ? 'held' : 'cancelled';
      await trx
        .updateTable('forward_deliveries')
        .set({ status, lease_until: null, ...(status === 'cancelled' ? { finished_at: sql<Date>`now()` } : {}) })
        .where('id', '=', id)
        .execute();
      return { kind: status };
    }
    if (d.lease_until && d.lease_until > d.now) return { kind: 'later' as const, at: d.lease_until };
    if (d.next_attempt_at.getTime() > d.now.getTime() + 1000) return { kind: 'later' as const, at: d.next_attempt_at };
    const earlier = await trx
      .selectFrom('forward_deliveries')
      .select('id')
      .where('destination_id', '=', d.destination_id)
      .where('subject', '=', d.subject)
      .where('status', 'in', ['pending', 'held'])
      .where('id', '<', id)
      .limit(1)
      .executeTakeFirst();
    if (earlier) return { kind: 'waiting' as const };
    const delivery = (await lease(trx, id, leaseMs, sql`where f.id = ${id}`))!;
    return { kind: 'send' as const, delivery, destination };
  });
}

/**
 * Lease the delivery `id` for `leaseMs` and count the attempt, if `chosen` (the rest of a select
 * over `forward_deliveries f`) picks it; with what it is to send.
 */
async function lease(db: Db, id: string, leaseMs: number, chosen: RawBuilder<unknown>) {
  const { rows } = await sql<ClaimedDelivery>`
    with c as (select f.id from forward_deliveries f ${chosen})
    update forward_deliveries f set attempts = f.attempts + 1,
      lease_until = now() + make_interval(secs => ${leaseMs / 1000})
    from c where f.id = c.id and f.id = ${id}
    returning f.*, ${claimedBody} as body`.execute(db);
  return rows[0];
}

/** Give a claimed delivery back without an attempt (its destination's rate limit said wait). */
export async function releaseDelivery(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('forward_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '-', 1), lease_until: null, next_attempt_at: at }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

export interface AttemptOutcome {
  deliveryId: string;
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** delivered; retry (with when); failed (final). */
  result: { kind: 'delivered' } | { kind: 'retry'; at: Date } | { kind: 'failed' };
}

export interface AttemptRecorded {
  /** The destination paused itself with this attempt (circuit breaker). */
  breakerOpened: boolean;
  /** The delivery is held now (its destination paused meanwhile, or with this attempt). */
  held: boolean;
  /** The chain's next delivery, now its head: it needs a job. */
  next: ForwardHead | undefined;
}

/**
 * Record an attempt and its consequence in one transaction: the attempt row, the delivery's new
 * state, the destination's failure streak (pausing it at its breaker threshold, which holds every
 * pending delivery), and, when the delivery is finished, the chain's next head.
 */
export async function recordAttempt(db: Db, o: AttemptOutcome): Promise<AttemptRecorded> {
  return db.transaction().execute(async (trx) => {
    if (o.result.kind !== 'delivered') {
      // A failure extends the destination's streak, and every failing sender queues on that row. Wait
      // for it before locking the delivery: a delivery locked while its sender queues would hold up
      // every apply that adds to the delivery's chain (chainHeads' FOR SHARE), and with it the
      // webhook_events rows that apply holds, so the ingress's redeliveries of them time out.
      await sql`select 1 from forward_destinations
        where id = (select destination_id from forward_deliveries where id = ${o.deliveryId})
        for no key update`.execute(trx);
    }
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
    const delivery = await trx
      .updateTable('forward_deliveries')
      .set({
        status: r.kind === 'retry' ? 'pending' : r.kind,
        lease_until: null,
        last_status_code: o.statusCode,
        last_error: o.error?.slice(0, 2000) ?? null,
        ...(r.kind === 'retry' ? { next_attempt_at: r.at } : { finished_at: sql<Date>`now()` }),
        ...(r.kind === 'delivered' ? { delivered_at: sql<Date>`now()` } : {}),
      })
      .where('id', '=', o.deliveryId)
      .where('status', '=', 'pending')
      .returning(['destination_id', 'subject'])
      .executeTakeFirst();
    if (!delivery) {
      // Paused, removed or replayed while this attempt ran: the new state stands.
      return { breakerOpened: false, held: false, next: undefined };
    }
    const success = r.kind === 'delivered';
    let breakerOpened = false;
    if (success) {
      // The streak ends. Only written when there was one: the destination row is every sender's, so a
      // write per delivery would queue them all behind it. (If it was paused meanwhile, the next
      // delivery's claim finds that and holds it.)
      await trx
        .updateTable('forward_destinations')
        .set({ consecutive_failures: 0 })
        .where('id', '=', delivery.destination_id)
        .where('consecutive_failures', '<>', 0)
        .execute();
    } else {
      const trips = sql`old.state = 'active' and old.breaker_threshold > 0
        and old.consecutive_failures + 1 >= old.breaker_threshold`;
      const { rows } = await sql<{ state: string; old_state: string }>`
        with old as (
          select id, state, consecutive_failures, breaker_threshold from forward_destinations
          where id = ${delivery.destination_id} for no key update)
        update forward_destinations d set
          consecutive_failures = old.consecutive_failures + 1,
          state = case when ${trips} then 'paused' else old.state end,
          paused_reason = case when ${trips}
            then 'circuit breaker: ' || (old.consecutive_failures + 1) || ' consecutive failures' else d.paused_reason end,
          updated_at = now()
        from old where d.id = old.id
        returning d.state, old.state as old_state`.execute(trx);
      const dest = rows[0]!;
      breakerOpened = dest.old_state === 'active' && dest.state === 'paused';
      if (dest.state === 'paused') {
        await holdPendingDeliveries(trx, delivery.destination_id);
        return { breakerOpened, held: r.kind === 'retry', next: undefined };
      }
    }
    if (r.kind === 'retry') return { breakerOpened, held: false, next: undefined };
    const next = await trx
      .selectFrom('forward_deliveries')
      .select(['id', 'destination_id', 'subject', 'event_type', 'status'])
      .where('destination_id', '=', delivery.destination_id)
      .where('subject', '=', delivery.subject)
      .where('status', 'in', ['pending', 'held'])
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return {
      breakerOpened,
      held: false,
      next: next?.status === 'pending' ? next : undefined,
    };
  });
}

/** Hold a paused destination's pending deliveries (in id order, the order chains lock in). */
async function holdPendingDeliveries(db: Db, destinationId: string): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    update forward_deliveries f set status = 'held', lease_until = null
    where f.id in (select id from forward_deliveries where destination_id = ${destinationId} and status = 'pending'
      order by id for update)
    returning f.id`.execute(db);
  return rows.length;
}

/** Pause by hand: new deliveries are held, and so are the pending ones. */
export async function pauseDestination(db: Db, id: string, reason: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('forward_destinations')
      .set({ state: 'paused', paused_reason: reason, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('state', '<>', 'removed')
      .execute();
    return holdPendingDeliveries(trx, id);
  });
}

/**
 * Resume a paused destination (by hand or by its breaker): held deliveries become pending, due now.
 * Returns the heads of their chains (one per subject, the oldest), which need jobs; the rest follow
 * in order as each head is delivered.
 */
export async function resumeDestination(db: Db, id: string): Promise<{ released: number; heads: ForwardHead[] }> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('forward_destinations')
      .set({ state: 'active', paused_reason: null, consecutive_failures: 0, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('state', '=', 'paused')
      .execute();
    const { rows } = await sql<{ id: string }>`
      update forward_deliveries f set status = 'pending', next_attempt_at = now()
      where f.id in (select id from forward_deliveries where destination_id = ${id} and status = 'held'
        order by id for update)
      returning f.id`.execute(trx);
    const heads = await findChainHeads(trx, id);
    return { released: rows.length, heads };
  });
}

/** The head of every chain of a destination that has one pending. */
async function findChainHeads(db: Db, destinationId: string): Promise<ForwardHead[]> {
  const { rows } = await sql<ForwardHead & { status: ForwardStatus }>`
    select distinct on (subject) id, destination_id, subject, event_type, status from forward_deliveries
    where destination_id = ${destinationId} and status in ('pending', 'held')
    order by subject, id`.execute(db);
  return rows.filter((r) => r.status === 'pending');
}

/** Remove: no new deliveries; the unfinished ones are cancelled. Rows stay for the record. */
export async function removeDestination(db: Db, id: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('forward_destinations')
      .set({ state: 'removed', updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
    const { numUpdatedRows } = await trx
      .updateTable('forward_deliveries')
      .set({ status: 'cancelled', lease_until: null, finished_at: sql<Date>`now()` })
      .where('destination_id', '=', id)
      .where('status', 'in', ['pending', 'held'])
      .executeTakeFirst();
    return Number(numUpdatedRows);
  });
}

/** A new secret; the previous one keeps signing (both signatures are sent) for `overlapHours`. */
export async function rotateDestinationSecret(
  db: Db,
  id: string,
  secret: string,
  overlapHours: number,
): Promise<ForwardDestination | undefined> {
  return db
    .updateTable('forward_destinations')
    .set({
      previous_secret: sql<string>`secret`,
      previous_secret_expires_at: sql<Date>`now() + make_interval(hours => ${overlapHours})`,
      secret,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('state', '<>', 'removed')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Release deliveries held for a destination that is active again, written before `cutoff`. An apply
 * that read the destination as paused can commit its held delivery just after a resume released the
 * held ones; this picks those up (the sweeper runs it before looking for overdue heads).
 */
export async function releaseStrandedHeld(db: Db, cutoff: Date): Promise<number> {
  const r = await sql`
    update forward_deliveries f set status = 'pending'
    where f.destination_id in (select id from forward_destinations where state = 'active')
      and f.status = 'held' and f.created_at < ${cutoff}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Pending chain heads whose job should have run before `cutoff` and that no sender holds: their
 * job was lost (Redis restarted without its data, a crash between commit and enqueue).
 */
export async function findOverdueHeads(db: Db, cutoff: Date, limit: number): Promise<ForwardHead[]> {
  const { rows } = await sql<ForwardHead>`
    select f.id, f.destination_id, f.subject, f.event_type from forward_deliveries f
    where f.status = 'pending' and f.next_attempt_at < ${cutoff}
      and (f.lease_until is null or f.lease_until < now())
      and not exists (select 1 from forward_deliveries p where p.destination_id = f.destination_id
        and p.subject = f.subject and p.status in ('pending', 'held') and p.id < f.id)
    order by f.next_attempt_at limit ${limit}`.execute(db);
  return rows;
}

export interface DeliveryReplaySelection {
  destinationId: string;
  since: Date;
  statuses: readonly ForwardStatus[];
  limit: number;
}

/** Deliveries of a destination created since `since` with one of `statuses`, oldest first. */
export async function findDeliveriesToReplay(db: Db, s: DeliveryReplaySelection): Promise<ForwardDelivery[]> {
  return db
    .selectFrom('forward_deliveries')
    .selectAll()
    .where('destination_id', '=', s.destinationId)
    .where('created_at', '>=', s.since)
    .where('status', 'in', [...s.statuses])
    .orderBy('id')
    .limit(s.limit)
    .execute();
}

/**
 * Send deliveries again: pending (held if the destination is paused), due now, with a fresh retry
 * schedule; their webhook-id stays, so a receiver that deduplicates sees them as redeliveries.
 * Returns the chain heads that need a job.
 */
export async function markDeliveriesForReplay(
  db: Db,
  destinationId: string,
  ids: readonly string[],
): Promise<{ marked: number; heads: ForwardHead[] }> {
  if (ids.length === 0) return { marked: 0, heads: [] };
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      update forward_deliveries f set
        status = case when d.state = 'active' then 'pending' else 'held' end,
        attempts = 0, next_attempt_at = now(), lease_until = null, finished_at = null,
        replay_count = f.replay_count + 1
      from forward_destinations d
      where d.id = f.destination_id and d.state <> 'removed' and f.destination_id = ${destinationId}
        and f.id = any(${[...ids]}::bigint[]) and f.status in ('delivered', 'failed', 'cancelled')
      returning f.id`.execute(trx);
    return { marked: rows.length, heads: await findChainHeads(trx, destinationId) };
  });
}

/** The attempts at one delivery, oldest first. */
export async function findAttempts(db: Db, deliveryId: string) {
  return db.selectFrom('forward_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').execute();
}

/** Every delivery to one destination, oldest first (`make chaos` checks them against what was applied). */
export async function findDeliveriesTo(db: Db, destinationId: string): Promise<ForwardDelivery[]> {
  return db
    .selectFrom('forward_deliveries')
    .selectAll()
    .where('destination_id', '=', destinationId)
    .orderBy('id')
    .execute();
}

/** Deliveries of one subject (a call or chat), oldest first; for tests and the console. */
export async function findDeliveriesOf(db: Db, subject: string): Promise<ForwardDelivery[]> {
  return db.selectFrom('forward_deliveries').selectAll().where('subject', '=', subject).orderBy('id').execute();
}

export interface DestinationGauge {
  destination_id: string;
  pending: number;
  held: number;
  oldest_pending_seconds: number;
}

/** For metrics: unfinished deliveries per destination and the age of the oldest. */
export async function forwardBacklog(db: Db): Promise<DestinationGauge[]> {
  const { rows } = await sql<DestinationGauge>`
    select d.id as destination_id,
      count(f.id) filter (where f.status = 'pending')::int as pending,
      count(f.id) filter (where f.status = 'held')::int as held,
      coalesce(extract(epoch from now() - min(f.created_at)), 0)::float8 as oldest_pending_seconds
    from forward_destinations d
    left join forward_deliveries f on f.destination_id = d.id and f.status in ('pending', 'held')
    where d.state <> 'removed'
    group by d.id order by d.id`.execute(db);
  return rows;
}
