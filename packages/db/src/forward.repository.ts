import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';
import type {
  DestinationState,
  ForwardDelivery,
  ForwardDestination,
  ForwardStatus,
  PausedBy,
  PayloadMode,
} from './forward.table';
import { boundedTransaction } from './forward/bounded';
import { cancelUnsentDeliveries, holdPendingDeliveries, releaseHeldDeliveries } from './forward/hold-release';

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
  /** Deliveries in flight at once across every worker. Default 4. */
  maxInFlight?: number;
  /** Fail a 4xx answer (but 408, 429) at once instead of retrying it. Default false. */
  fail4xx?: boolean;
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
      max_in_flight: d.maxInFlight,
      fail_4xx: d.fail4xx,
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
 * The webhook-id of a delivery, derived from (event row, revision, destination): the event row by its
 * dedupe key, which a re-applied event keeps even when its row had to be written again (Postgres lost
 * the commit). Resends after a crash, replays and re-applies all carry it, so receivers can dedupe.
 */
const messageId = sql<string>`'msg_' || left(encode(sha256(convert_to(
  e.provider || ':' || e.dedupe_key || ':' || coalesce(e.snapshot_size, 0) || ':' || d.id, 'UTF8')), 'hex'), 32)`;

/** The applied rows `ids` with each matching destination: the source of their deliveries. */
const matching = (ids: readonly string[]) => sql`
    from webhook_events e
    left join retell_call_sessions cs on cs.call_id = e.call_id
    left join retell_chat_sessions ch on ch.chat_id = e.chat_id
    join forward_destinations d on d.state <> 'removed' and e.event_type = any(d.events)
      and (d.company_id is null or d.company_id = coalesce(cs.company_id, ch.company_id))
    where e.id = any(${[...ids]}::bigint[]) and coalesce(e.call_id, e.chat_id) is not null`;

/** Session mode's body: the session row as it stands now, inside the applying transaction. */
const sessionBody = sql`case when d.payload_mode = 'session' then jsonb_build_object(
        'type', e.event_type,
        'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', coalesce(to_jsonb(cs), to_jsonb(ch))) end`;

/**
 * Write the outbox for applied rows: one delivery per matching destination (event type, company),
 * `held` when the destination is paused. Session-mode bodies are the session row as it stands now,
 * inside the applying transaction. Applying a row again adds nothing (unique per event, snapshot
 * and destination). A longer transcript_updated snapshot takes over the delivery of an older one
 * that is still unsent (and not in flight) for the same call and destination, keeping its place in
 * the chain: storage grows with the call, not with its square. Returns the new deliveries that head
 * their chain: these need a job.
 */
export async function queueForwards(db: Db, webhookEventIds: readonly string[]): Promise<QueuedForward[]> {
  if (webhookEventIds.length === 0) return [];
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
  /** Not due yet (a lease of another sender, the next retry, the breaker's probe time): come back then. */
  | { kind: 'later'; at: Date }
  /** `probe`: sent as the open breaker's one probe; its answer closes or re-opens the breaker. */
  | { kind: 'send'; delivery: ClaimedDelivery; destination: ForwardDestination; probe: boolean };

export interface ClaimedDelivery extends ForwardDelivery {
  /** What to send: the session-mode payload, or the event's body as Retell sent it. */
  body: string | null;
}

/** What a claimed delivery sends: its session-mode body, else the event's body as received. */
const claimedBody = sql`case when f.payload is not null then f.payload::text else (
  select coalesce(convert_from(e.raw_body, 'UTF8'), e.payload::text) from webhook_events e
  where e.id = f.webhook_event_id) end`;

/**
 * Take a delivery for one attempt: checks it is pending, its destination active (or the delivery is
 * its open breaker's probe, and the probe is due), it heads its chain and is due, then leases it for
 * `leaseMs` and counts the attempt. Every call counts a claim on the row. The destination's limits
 * (rate, deliveries in flight) are the caller's to check before: a claim is a Postgres round trip.
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
  if (fast)
    return {
      kind: 'send',
      delivery: fast,
      destination: (await findDestination(db, fast.destination_id))!,
      probe: false,
    };
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<ForwardDelivery & { now: Date }>`
      update forward_deliveries f set claims = f.claims + 1 where f.id = ${id}
      returning f.*, now() as now`.execute(trx);
    const d = rows[0];
    if (!d) return { kind: 'gone' as const };
    if (d.status !== 'pending') return { kind: 'final' as const, status: d.status };
    const destination = (await findDestination(trx, d.destination_id))!;
    const probe =
      destination.state === 'paused' && destination.paused_by === 'breaker' && destination.probe_delivery_id === d.id;
    if (destination.state !== 'active' && !probe) {
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
    if (probe && destination.probe_at && destination.probe_at.getTime() > d.now.getTime() + 1000)
      return { kind: 'later' as const, at: destination.probe_at };
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
    if (probe) {
      // One probe at a time: until its answer is recorded, nobody else finds it due.
      await trx
        .updateTable('forward_destinations')
        .set({ probe_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
        .where('id', '=', destination.id)
        .execute();
    }
    const delivery = (await lease(trx, id, leaseMs, sql`where f.id = ${id}`, false))!;
    return { kind: 'send' as const, delivery, destination, probe };
  });
}

/**
 * Lease the delivery `id` for `leaseMs` and count the attempt (and, unless counted already, the
 * claim), if `chosen` (the rest of a select over `forward_deliveries f`) picks it; with what it is to send.
 */
async function lease(db: Db, id: string, leaseMs: number, chosen: RawBuilder<unknown>, countClaim = true) {
  const { rows } = await sql<ClaimedDelivery>`
    with c as (select f.id from forward_deliveries f ${chosen})
    update forward_deliveries f set attempts = f.attempts + 1, claims = f.claims + ${countClaim ? 1 : 0},
      lease_until = now() + make_interval(secs => ${leaseMs / 1000})
    from c where f.id = c.id and f.id = ${id}
    returning f.*, ${claimedBody} as body`.execute(db);
  return rows[0];
}

/** Give a claimed delivery back without an attempt (its signing secret could not be read). */
export async function releaseDelivery(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('forward_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '-', 1), lease_until: null, next_attempt_at: at }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** What the breaker sees of its destination when an attempt is recorded (the row is locked). */
export interface BreakerView {
  state: DestinationState;
  paused_by: PausedBy | null;
  consecutive_failures: number;
  breaker_threshold: number;
  breaker_opens: number;
}

/** What the breaker decided about an attempt (a pure function's verdict; recordAttempt applies it). */
export type BreakerDecision =
  /** Nothing changes but the failure streak. */
  | { kind: 'keep' }
  /** Open (or re-open, after a failed probe): paused, one probe after `probeInMs`. */
  | { kind: 'open'; probeInMs: number; reason: string }
  /** The probe succeeded: active again, everything held is released. */
  | { kind: 'close' }
  /** The receiver said 410 Gone: paused until an operator resumes it. */
  | { kind: 'gone'; reason: string };

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
 * Record an attempt and its consequence in one transaction: the attempt row, the delivery's new
 * state, the destination's failure streak and what `decide` (the breaker's policy) makes of it, and,
 * when the delivery is finished, the chain's next head. Holding or releasing the destination's other
 * deliveries is left to the caller, in batches after this commits (holdPendingDeliveries,
 * releaseHeldDeliveries): a backlog must not make this transaction long.
 */
export async function recordAttempt(
  db: Db,
  o: AttemptOutcome,
  decide: (d: BreakerView) => BreakerDecision,
): Promise<AttemptRecorded> {
  return db.transaction().execute(async (trx) => {
    const success = o.result.kind === 'delivered';
    let decision: BreakerDecision = { kind: 'keep' };
    let destinationLocked = false;
    if (!success || o.probe) {
      // A failure extends the destination's streak, and every failing sender queues on that row. Wait
      // for it before locking the delivery: a delivery locked while its sender queues would hold up
      // every apply that adds to the delivery's chain (chainHeads' FOR SHARE), and with it the
      // webhook_events rows that apply holds, so the ingress's redeliveries of them time out.
      const { rows } = await sql<BreakerView>`
        select state, paused_by, consecutive_failures, breaker_threshold, breaker_opens from forward_destinations
        where id = (select destination_id from forward_deliveries where id = ${o.deliveryId})
        for no key update`.execute(trx);
      if (rows[0]) decision = decide(rows[0]);
      destinationLocked = true;
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
    const probeIn =
      decision.kind === 'open' ? sql<Date>`now() + make_interval(secs => ${decision.probeInMs / 1000})` : null;
    const retryAt =
      r.kind !== 'retry'
        ? undefined
        : probeIn
          ? sql<Date>`greatest(${r.at}::timestamptz, ${probeIn})`
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
      .returning(['destination_id', 'subject', 'next_attempt_at'])
      .executeTakeFirst();
    if (!delivery) {
      // Paused, removed or replayed while this attempt ran: the new state stands.
      return NOTHING;
    }
    const destinationId = delivery.destination_id;
    if (!destinationLocked) {
      // The streak ends. Only written when there was one: the destination row is every sender's, so a
      // write per delivery would queue them all behind it. (If it was paused meanwhile, the next
      // delivery's claim finds that and holds it.)
      await trx
        .updateTable('forward_destinations')
        .set({ consecutive_failures: 0 })
        .where('id', '=', destinationId)
        .where('consecutive_failures', '<>', 0)
        .execute();
    } else {
      await applyBreaker(trx, destinationId, success, decision, r.kind === 'retry' ? o.deliveryId : null, probeIn);
    }
    let probe: ForwardHead | undefined;
    if (decision.kind === 'open' && r.kind !== 'retry') probe = await armProbe(trx, destinationId);
    if (r.kind === 'retry')
      return { breaker: decision.kind, retryAt: delivery.next_attempt_at, next: undefined, probe: undefined };
    const next = await trx
      .selectFrom('forward_deliveries')
      .select(['id', 'destination_id', 'subject', 'event_type', 'status'])
      .where('destination_id', '=', destinationId)
      .where('subject', '=', delivery.subject)
      .where('status', 'in', ['pending', 'held'])
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return {
      breaker: decision.kind,
      retryAt: undefined,
      next: next?.status === 'pending' && next.id !== probe?.id ? stripStatus(next) : undefined,
      probe,
    };
  });
}

function stripStatus<H extends ForwardHead>(h: H & { status?: unknown }): ForwardHead {
  return { id: h.id, destination_id: h.destination_id, subject: h.subject, event_type: h.event_type };
}

/** The streak, and the breaker's decision, on the destination row (locked by the caller). */
async function applyBreaker(
  db: Db,
  destinationId: string,
  success: boolean,
  decision: BreakerDecision,
  /** This delivery, when it is to be retried: an opening breaker makes it the probe. */
  retried: string | null,
  probeAt: RawBuilder<Date> | null,
): Promise<void> {
  const streak = success ? sql`0` : sql`consecutive_failures + 1`;
  switch (decision.kind) {
    case 'keep':
      await sql`update forward_destinations set consecutive_failures = ${streak} where id = ${destinationId}`.execute(
        db,
      );
      return;
    case 'open':
      await sql`update forward_destinations set consecutive_failures = ${streak}, state = 'paused',
          paused_by = 'breaker', paused_reason = ${decision.reason}, breaker_opens = breaker_opens + 1,
          probe_at = ${probeAt}, probe_delivery_id = ${retried}, updated_at = now()
        where id = ${destinationId}`.execute(db);
      return;
    case 'close':
      await sql`update forward_destinations set consecutive_failures = 0, state = 'active', paused_by = null,
          paused_reason = null, breaker_opens = 0, probe_at = null, probe_delivery_id = null, updated_at = now()
        where id = ${destinationId}`.execute(db);
      return;
    case 'gone':
      await sql`update forward_destinations set consecutive_failures = ${streak}, state = 'paused',
          paused_by = 'gone', paused_reason = ${decision.reason}, probe_at = null, probe_delivery_id = null,
          updated_at = now()
        where id = ${destinationId}`.execute(db);
      return;
  }
}

/**
 * Choose the open breaker's probe when it has none: the oldest chain head (pending or held) of the
 * destination, made pending and due at the probe time. Undefined: nothing to probe with (the next
 * delivery written is held; the sweeper arms one then, releaseStrandedHeld).
 */
async function armProbe(db: Db, destinationId: string): Promise<ForwardHead | undefined> {
  const { rows } = await sql<ForwardHead>`
    with head as (
      select f.id from forward_deliveries f join forward_destinations d on d.id = f.destination_id
      where f.destination_id = ${destinationId} and f.status in ('pending', 'held')
        and d.state = 'paused' and d.paused_by = 'breaker'
        and not exists (select 1 from forward_deliveries p where p.destination_id = f.destination_id
          and p.subject = f.subject and p.status in ('pending', 'held') and p.id < f.id)
      order by f.id limit 1
      for update of f skip locked
    ), armed as (
      update forward_destinations d set probe_delivery_id = head.id from head where d.id = ${destinationId}
    )
    update forward_deliveries f set status = 'pending', lease_until = null,
      next_attempt_at = greatest(f.next_attempt_at, (select probe_at from forward_destinations where id = ${destinationId}))
    from head where f.id = head.id
    returning f.id, f.destination_id, f.subject, f.event_type`.execute(db);
  return rows[0];
}

/** Flip a destination's state in a short, bounded transaction; false: it was not in a state `from` allows. */
async function setDestinationState(
  db: Db,
  id: string,
  set: RawBuilder<unknown>,
  from: RawBuilder<unknown>,
): Promise<boolean> {
  return boundedTransaction(db, async (trx) => {
    const r =
      await sql`update forward_destinations set ${set}, updated_at = now() where id = ${id} and ${from}`.execute(trx);
    return Number(r.numAffectedRows ?? 0) > 0;
  });
}

/**
 * Pause by hand: new deliveries are held, and so are the pending ones (in batches). The pause stays
 * until resume: the breaker never closes it.
 */
export async function pauseDestination(db: Db, id: string, reason: string): Promise<number> {
  await setDestinationState(
    db,
    id,
    sql`state = 'paused', paused_by = 'operator', paused_reason = ${reason}, probe_at = null, probe_delivery_id = null`,
    sql`state <> 'removed'`,
  );
  return holdPendingDeliveries(db, id);
}

/**
 * Resume a paused destination (by hand, or after a 410, or while its breaker is open): held
 * deliveries become pending, due now (in batches). Returns the heads of their chains (one per
 * subject, the oldest), which need jobs; the rest follow in order as each head is delivered. `probe`:
 * the open breaker's probe delivery, due now too; its job waits delayed for the probe time, so it
 * needs a job of its own to go now.
 */
export async function resumeDestination(
  db: Db,
  id: string,
): Promise<{ released: number; heads: ForwardHead[]; probe: ForwardHead | undefined }> {
  const probe = await boundedTransaction(db, async (trx) => {
    const { rows } = await sql<ForwardHead>`
      with old as (select id, probe_delivery_id from forward_destinations where id = ${id} and state = 'paused' for update),
      resumed as (
        update forward_destinations d set state = 'active', paused_by = null, paused_reason = null,
          consecutive_failures = 0, breaker_opens = 0, probe_at = null, probe_delivery_id = null, updated_at = now()
        from old where d.id = old.id
      )
      update forward_deliveries f set next_attempt_at = now()
      from old where f.id = old.probe_delivery_id and f.status = 'pending'
      returning f.id, f.destination_id, f.subject, f.event_type`.execute(trx);
    return rows[0];
  });
  return { ...(await releaseDestination(db, id)), probe };
}

/**
 * An active destination's held deliveries made pending (in batches), and the heads of its chains
 * that need a job: after a resume, or after the breaker closed itself.
 */
export async function releaseDestination(db: Db, id: string): Promise<{ released: number; heads: ForwardHead[] }> {
  const released = await releaseHeldDeliveries(db, id);
  const heads = await boundedTransaction(db, (trx) => findChainHeads(trx, id), { statementTimeoutMs: 30_000 });
  return { released, heads };
}

/** The head of every chain of a destination that has one pending. */
async function findChainHeads(db: Db, destinationId: string): Promise<ForwardHead[]> {
  const { rows } = await sql<ForwardHead & { status: ForwardStatus }>`
    select distinct on (subject) id, destination_id, subject, event_type, status from forward_deliveries
    where destination_id = ${destinationId} and status in ('pending', 'held')
    order by subject, id`.execute(db);
  return rows.filter((r) => r.status === 'pending').map(stripStatus);
}

/** Remove: no new deliveries; the unfinished ones are cancelled (in batches). Rows stay for the record. */
export async function removeDestination(db: Db, id: string): Promise<number> {
  await setDestinationState(
    db,
    id,
    sql`state = 'removed', paused_by = null, probe_at = null, probe_delivery_id = null`,
    sql`true`,
  );
  return cancelUnsentDeliveries(db, id);
}

export { holdPendingDeliveries };

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
 * held ones; this picks those up (the sweeper runs it before looking for overdue heads). It also arms
 * a probe for an open breaker whose probe time has come and that has none (its probe failed for good,
 * or nothing was left to probe with when it opened), so a breaker always closes by itself.
 */
export async function releaseStrandedHeld(db: Db, cutoff: Date): Promise<number> {
  const r = await sql`
    update forward_deliveries f set status = 'pending'
    where f.destination_id in (select id from forward_destinations where state = 'active')
      and f.status = 'held' and f.created_at < ${cutoff}`.execute(db);
  const { rows: unarmed } = await sql<{ id: string }>`
    select d.id from forward_destinations d
    where d.state = 'paused' and d.paused_by = 'breaker' and d.probe_at <= now()
      and not exists (select 1 from forward_deliveries f where f.id = d.probe_delivery_id and f.status = 'pending')`.execute(
    db,
  );
  let armed = 0;
  for (const d of unarmed) if (await boundedTransaction(db, (trx) => armProbe(trx, d.id))) armed += 1;
  return Number(r.numAffectedRows ?? 0) + armed;
}

/**
 * Pending chain heads whose job should have run before `cutoff` and that no sender holds: their
 * job was lost (Redis restarted without its data, a crash between commit and enqueue). At most
 * `limit / 5` (and 20 at least) per destination: a rate-limited destination's long queue, whose jobs
 * wait delayed in BullMQ, must not crowd out another's lost ones.
 */
export async function findOverdueHeads(db: Db, cutoff: Date, limit: number): Promise<ForwardHead[]> {
  const perDestination = Math.max(20, Math.floor(limit / 5));
  const { rows } = await sql<ForwardHead>`
    select id, destination_id, subject, event_type from (
      select f.id, f.destination_id, f.subject, f.event_type, f.next_attempt_at,
        row_number() over (partition by f.destination_id order by f.next_attempt_at) as n
      from forward_deliveries f
      where f.status = 'pending' and f.next_attempt_at < ${cutoff}
        and (f.lease_until is null or f.lease_until < now())
        and not exists (select 1 from forward_deliveries p where p.destination_id = f.destination_id
          and p.subject = f.subject and p.status in ('pending', 'held') and p.id < f.id)
    ) o where n <= ${perDestination}
    order by next_attempt_at limit ${limit}`.execute(db);
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

/** For `make chaos`: when each delivered delivery's event was applied, and when it was delivered. */
export async function appliedAndDelivered(
  db: Db,
  destinationId: string,
): Promise<{ applied_at: Date; delivered_at: Date }[]> {
  const { rows } = await sql<{ applied_at: Date; delivered_at: Date }>`
    select e.processed_at as applied_at, f.delivered_at
    from forward_deliveries f join webhook_events e on e.id = f.webhook_event_id
    where f.destination_id = ${destinationId} and f.status = 'delivered' and e.processed_at is not null
    order by f.id`.execute(db);
  return rows;
}

export interface DestinationGauge {
  destination_id: string;
  pending: number;
  held: number;
  oldest_pending_seconds: number;
  /** 0 active, 1 its breaker is open (it probes and closes itself), 2 paused until resume (operator, 410). */
  breaker_state: number;
}

/** For metrics: unfinished deliveries per destination and the age of the oldest. */
export async function forwardBacklog(db: Db): Promise<DestinationGauge[]> {
  const { rows } = await sql<DestinationGauge>`
    select d.id as destination_id,
      count(f.id) filter (where f.status = 'pending')::int as pending,
      count(f.id) filter (where f.status = 'held')::int as held,
      coalesce(extract(epoch from now() - min(f.created_at)), 0)::float8 as oldest_pending_seconds,
      (case when d.state = 'active' then 0 when d.paused_by = 'breaker' then 1 else 2 end)::int as breaker_state
    from forward_destinations d
    left join forward_deliveries f on f.destination_id = d.id and f.status in ('pending', 'held')
    where d.state <> 'removed'
    group by d.id order by d.id`.execute(db);
  return rows;
}
