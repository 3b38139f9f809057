import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Db } from './database';
import type { WebhookEvent, WebhookEventSource, WebhookEventStatus } from './webhook-event.table';

export interface Delivery {
  eventType: string;
  /** The subject: a call, a chat, or neither (an event callsync does not know). */
  callId: string | null;
  chatId?: string | null;
  dedupeKey: string;
  /** The parsed body, serialised for jsonb. */
  payloadJson: string;
  rawBody: Buffer | null;
  signature: string | null;
  source: WebhookEventSource;
  /**
   * Snapshot events (transcript_updated): the size of this snapshot. A delivery of the same key with a
   * larger size replaces the stored payload and puts the row back to `pending`, so the newer snapshot
   * is applied; a smaller or equal one is only counted. Null or absent: not a snapshot.
   */
  snapshotSize?: number | null;
  /**
   * How many of Retell's deliveries this is: 1 (default) for a webhook, 0 for what reconciliation or
   * discovery read from Retell's API, so delivery_count counts Retell's deliveries only.
   */
  deliveryCount?: 0 | 1;
}

export interface RecordedDelivery {
  id: string;
  status: WebhookEventStatus;
  /** False when the dedupe key was already stored and this delivery was only counted. */
  inserted: boolean;
  deliveryCount: number;
  /** The stored snapshot's size (snapshot events). */
  snapshotSize: number | null;
}

/**
 * Insert a delivery as `pending`, or, when its dedupe key is already stored, count it
 * (delivery_count + 1) and change nothing else. One statement, so concurrent redeliveries
 * can neither create a second row nor lose a count.
 */
export async function recordDelivery(db: Db, d: Delivery): Promise<RecordedDelivery> {
  return (await recordDeliveries(db, [d]))[0]!;
}

interface InsertedRow {
  id: string;
  status: WebhookEventStatus;
  delivery_count: number;
  dedupe_key: string;
  snapshot_size: number | null;
  inserted: boolean;
}

const INSERT_COLUMNS = [
  'event_type',
  'call_id',
  'chat_id',
  'dedupe_key',
  'payload',
  'raw_body',
  'signature',
  'source',
  'delivery_count',
  'snapshot_size',
];
const insertSqlCache = new Map<string, string>();

/** A longer snapshot replaces the stored one and is applied again; an older one arriving late is only counted. */
const LONGER = 'excluded.snapshot_size > coalesce(webhook_events.snapshot_size, -1)';
const SNAPSHOT_REPLACEMENT = ['payload', 'raw_body', 'signature', 'snapshot_size']
  .map((c) => `, ${c} = case when ${LONGER} then excluded.${c} else webhook_events.${c} end`)
  .concat([
    `, status = case when ${LONGER} then 'pending' else webhook_events.status end`,
    `, processed_at = case when ${LONGER} then null else webhook_events.processed_at end`,
    `, error = case when ${LONGER} then null else webhook_events.error end`,
  ])
  .join('');

/**
 * The INSERT for `rows` deliveries, written out once per size and kept: the ingress runs it for every
 * batch, and building a 200-row statement through the query builder cost more CPU than Postgres
 * spent running it.
 */
function insertDeliveriesSql(rows: number, snapshot: boolean): string {
  const key = `${rows}:${snapshot}`;
  let text = insertSqlCache.get(key);
  if (text) return text;
  const n = INSERT_COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${INSERT_COLUMNS.map((_, c) => `$${r * n + c + 1}`).join(', ')})`,
  );
  text =
    `insert into webhook_events (${INSERT_COLUMNS.join(', ')}) values ${tuples.join(', ')} ` +
    'on conflict (provider, dedupe_key) do update set ' +
    'delivery_count = webhook_events.delivery_count + excluded.delivery_count, last_delivered_at = now()' +
    (snapshot ? SNAPSHOT_REPLACEMENT : '') +
    ' returning id, status, delivery_count, dedupe_key, snapshot_size, (xmax = 0) as inserted';
  if (insertSqlCache.size < 1000) insertSqlCache.set(key, text);
  return text;
}

/**
 * recordDelivery for many deliveries at once: one multi-row INSERT ... ON CONFLICT per kind
 * (at most two statements), so the ingress can commit a burst of concurrent requests together.
 * Deliveries that share a dedupe key are counted on one row; the first of them is the one
 * `inserted` (for a snapshot event the last one's content is kept). Results are in input order.
 */
export async function recordDeliveries(db: Db, deliveries: readonly Delivery[]): Promise<RecordedDelivery[]> {
  const kinds = new Set(deliveries.map(isSnapshot));
  // Both kinds: two statements, committed together. Were the first committed alone and the second to
  // fail, the caller's retry would count the first one's deliveries twice.
  if (kinds.size > 1) return db.transaction().execute((trx) => recordDeliveriesIn(trx, deliveries));
  return recordDeliveriesIn(db, deliveries);
}

const isSnapshot = (d: Delivery) => d.snapshotSize !== undefined && d.snapshotSize !== null;

async function recordDeliveriesIn(db: Db, deliveries: readonly Delivery[]): Promise<RecordedDelivery[]> {
  const results: RecordedDelivery[] = new Array(deliveries.length);
  for (const snapshot of [false, true]) {
    const groups = new Map<string, number[]>();
    deliveries.forEach((d, i) => {
      if (isSnapshot(d) !== snapshot) return;
      const g = groups.get(d.dedupeKey);
      if (g) g.push(i);
      else groups.set(d.dedupeKey, [i]);
    });
    if (groups.size === 0) continue;
    // Rows go in key order, so two of these INSERTs running at once take their locks in the same
    // order and cannot deadlock on each other's keys.
    const keys = [...groups.keys()].sort();
    const params: unknown[] = [];
    for (const key of keys) {
      const g = groups.get(key)!;
      // Of one snapshot's deliveries in this batch, the longest is the one stored.
      const pick = snapshot
        ? g.reduce((a, b) => (deliveries[b]!.snapshotSize! > deliveries[a]!.snapshotSize! ? b : a))
        : g[0]!;
      const d = deliveries[pick]!;
      params.push(
        d.eventType,
        d.callId,
        d.chatId ?? null,
        d.dedupeKey,
        d.payloadJson,
        d.rawBody,
        d.signature,
        d.source,
        g.reduce((n, i) => n + (deliveries[i]!.deliveryCount ?? 1), 0),
        d.snapshotSize ?? null,
      );
    }
    const { rows } = await db.executeQuery<InsertedRow>(
      CompiledQuery.raw(insertDeliveriesSql(groups.size, snapshot), params),
    );
    const byKey = new Map(rows.map((r) => [r.dedupe_key, r]));
    for (const [key, g] of groups) {
      const r = byKey.get(key)!;
      g.forEach((i, k) => {
        results[i] = {
          id: r.id,
          status: r.status,
          inserted: r.inserted && k === 0,
          deliveryCount: r.delivery_count,
          snapshotSize: r.snapshot_size,
        };
      });
    }
  }
  return results;
}

export type ClaimedWebhookEvent = Pick<
  WebhookEvent,
  'id' | 'event_type' | 'call_id' | 'chat_id' | 'payload' | 'created_at' | 'source' | 'dedupe_key'
> & {
  status: 'processed' | 'skipped';
};

/**
 * Start applying rows, in one statement: lock the ones not applied yet (pending, or failed and being
 * retried) and mark each `processed` if `handledTypes` has its event type or `skipped`
 * if not, counting the attempt. Run it in the transaction that applies them, so the marks commit
 * with the work or not at all. Rows already applied, and ids that do not exist, are not returned.
 *
 * Rows another transaction holds are skipped, not waited for (and not returned either): the ingress
 * locks rows by dedupe key while it counts a redelivery, and this claim takes them by id, so waiting
 * could deadlock; and a frozen worker's rows would stall everyone behind them. The caller finds a
 * skipped row still pending and retries it later.
 */
export async function claimWebhookEvents(
  db: Db,
  ids: readonly string[],
  handledTypes: readonly string[],
): Promise<ClaimedWebhookEvent[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ClaimedWebhookEvent>`
    with target as (
      select id from webhook_events
      where id = any(${[...ids]}::bigint[]) and status in ('pending', 'failed')
      order by id for update skip locked
    )
    update webhook_events w set
      status = case when w.event_type = any(${[...handledTypes]}::text[]) then 'processed' else 'skipped' end,
      attempts = w.attempts + 1, error = null, processed_at = now()
    from target where w.id = target.id
    returning w.id, w.event_type, w.call_id, w.chat_id, w.payload, w.created_at, w.source, w.dedupe_key, w.status`.execute(
    db,
  );
  return rows;
}

/** Of `keys`, the dedupe keys of rows already applied (processed). */
export async function findAppliedKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom('webhook_events')
    .select('dedupe_key')
    .where('provider', '=', 'retell')
    .where('dedupe_key', 'in', [...keys])
    .where('status', '=', 'processed')
    .execute();
  return new Set(rows.map((r) => r.dedupe_key));
}

/**
 * Mark rows claimed in this transaction `skipped` after all, each with why: a delivery that carried
 * nothing the record did not already have, or one of an erased call (`prune`: its payload goes too).
 * Stored and visible, not applied.
 */
export async function markSkipped(
  db: Db,
  rows: readonly { rowId: string; why: string; prune?: boolean }[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    update webhook_events e set
      status = 'skipped', error = v.why,
      payload = case when v.prune then '{}'::jsonb else e.payload end,
      raw_body = case when v.prune then null else e.raw_body end,
      signature = case when v.prune then null else e.signature end,
      pruned_at = case when v.prune then coalesce(e.pruned_at, now()) else e.pruned_at end
    from unnest(${rows.map((r) => r.rowId)}::bigint[], ${rows.map((r) => r.why)}::text[], ${rows.map((r) => r.prune === true)}::boolean[])
      as v(id, why, prune)
    where e.id = v.id`.execute(db);
}

/** The status of each row that exists among `ids`. */
export async function findWebhookEventStatuses(
  db: Db,
  ids: readonly string[],
): Promise<Pick<WebhookEvent, 'id' | 'event_type' | 'call_id' | 'chat_id' | 'status'>[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('webhook_events')
    .select(['id', 'event_type', 'call_id', 'chat_id', 'status'])
    .where('id', 'in', [...ids])
    .execute();
}

/**
 * Record a failed attempt on a row not yet applied (pending, or failed and being retried).
 * `final` marks it `failed`; otherwise it is `pending` with the error text until the next try.
 */
export async function recordWebhookEventFailure(db: Db, id: string, error: string, final: boolean): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      error: error.slice(0, 4000),
      status: final ? ('failed' as const) : ('pending' as const),
      ...(final ? { processed_at: sql<Date>`now()` } : {}),
    }))
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'failed'])
    .execute();
}

/** The stored events of a call, or with `{ chat: true }` of a chat, oldest first. */
export async function findWebhookEvents(db: Db, id: string, options: { chat?: boolean } = {}): Promise<WebhookEvent[]> {
  return (
    db
      .selectFrom('webhook_events')
      .selectAll()
      .where(options.chat ? 'chat_id' : 'call_id', '=', id)
      // By arrival: an inbound webhook's record is written after its answer, in a group.
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  );
}

/** Rows still `pending` that were created before `cutoff`, oldest first, after the cursor row id. */
export async function findPendingEvents(
  db: Db,
  cutoff: Date,
  afterId: string | null,
  limit: number,
): Promise<{ id: string; event_type: string; call_id: string | null; chat_id: string | null }[]> {
  let q = db
    .selectFrom('webhook_events')
    .select(['id', 'event_type', 'call_id', 'chat_id'])
    .where('status', '=', 'pending')
    .where('created_at', '<', cutoff);
  if (afterId !== null) q = q.where('id', '>', afterId);
  return q.orderBy('id').limit(limit).execute();
}

export interface ReplaySelection {
  statuses: readonly WebhookEventStatus[];
  eventTypes?: readonly string[];
  /** Events of these calls or chats. */
  callIds?: readonly string[];
  /** Only these rows. */
  eventIds?: readonly string[];
  /** Events of this company's calls and chats ('unmapped': of calls and chats without a company). */
  companyId?: string;
  since?: Date;
  until?: Date;
  limit: number;
}

/** The rows `make replay` would re-run, oldest first; `pruned_at` set means retention removed the payload. */
export async function findEventsToReplay(
  db: Db,
  s: ReplaySelection,
): Promise<
  Pick<
    WebhookEvent,
    'id' | 'event_type' | 'call_id' | 'chat_id' | 'status' | 'attempts' | 'error' | 'created_at' | 'pruned_at'
  >[]
> {
  let q = db
    .selectFrom('webhook_events')
    .select(['id', 'event_type', 'call_id', 'chat_id', 'status', 'attempts', 'error', 'created_at', 'pruned_at'])
    .where('status', 'in', [...s.statuses]);
  if (s.eventTypes?.length) q = q.where('event_type', 'in', [...s.eventTypes]);
  if (s.eventIds?.length) q = q.where('id', 'in', [...s.eventIds]);
  const ids = s.callIds?.length ? [...s.callIds] : null;
  if (ids) q = q.where((eb) => eb.or([eb('call_id', 'in', ids), eb('chat_id', 'in', ids)]));
  if (s.companyId !== undefined) {
    const owned = (column: RawBuilder<unknown>) =>
      s.companyId === 'unmapped' ? sql`${column} is null` : sql`${column} = ${s.companyId}::bigint`;
    q = q.where(
      sql<boolean>`(exists (select 1 from retell_call_sessions cs where cs.call_id = webhook_events.call_id and ${owned(sql`cs.company_id`)})
        or exists (select 1 from retell_chat_sessions hs where hs.chat_id = webhook_events.chat_id and ${owned(sql`hs.company_id`)}))`,
    );
  }
  if (s.since) q = q.where('created_at', '>=', s.since);
  if (s.until) q = q.where('created_at', '<', s.until);
  return q.orderBy('id').limit(s.limit).execute();
}

/**
 * Put rows back to `pending` for a replay, recording it on the row (replay_count + 1,
 * last_replayed_at); `source` keeps saying where the event came from. Only rows still in one of
 * `fromStatuses` change, so a row that moved on meanwhile is left alone, and never a row whose
 * payload retention removed: there is nothing left to apply. Returns the ids that changed.
 */
export async function markForReplay(
  db: Db,
  ids: readonly string[],
  fromStatuses: readonly WebhookEventStatus[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('webhook_events')
    .set((eb) => ({
      status: 'pending' as const,
      replay_count: eb('replay_count', '+', 1),
      last_replayed_at: sql<Date>`now()`,
      processed_at: null,
    }))
    .where('id', 'in', [...ids])
    .where('status', 'in', [...fromStatuses])
    .where('pruned_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
