import { sql } from 'kysely';
import type { Db } from './database';

/*
 * The state of callsync's own notifications (migration 0023). Every change is one statement or one
 * transaction, so several workers checking at once, or a worker restarting mid-check, never tell the
 * same start or end twice: the flip of alert_states and the messages it causes commit together, and
 * a message is sent by whoever claims it.
 */

export type AlertChannel = 'webhook' | 'email';
export type AlertMessageKind = 'started' | 'ended' | 'summary';

/** A condition (with its subject, e.g. a destination id; '' for none) firing at this check. */
export interface FiringAlert {
  condition: string;
  subject: string;
  /** What is wrong, in words; carried into the message. No personal data. */
  detail: string;
}

export interface AlertState {
  condition: string;
  subject: string;
  active: boolean;
  changed_at: Date;
  clear_since: Date | null;
  detail: string | null;
}

export interface NewAlertMessage {
  kind: AlertMessageKind;
  subject: string;
  body: string;
}

/** A message written for one state change, or a day's summary. */
export interface AlertTransition {
  condition: string;
  subject: string;
  kind: 'started' | 'ended';
  detail: string | null;
  /** When the condition started (kind started) or when it was first seen clear (kind ended). */
  at: Date;
  /** When it started, for an end: how long it lasted. */
  startedAt: Date;
}

export interface ApplyAlertsOptions {
  /** Conditions evaluated at this check: only these can end (one whose query failed keeps its state). */
  evaluated: readonly string[];
  /** An active condition must be seen clear this long before it ends (no flood from one that flaps). */
  clearAfterMs: number;
  /** Channels to write each message for. */
  channels: readonly AlertChannel[];
  /** The messages for a change. */
  render: (t: AlertTransition) => NewAlertMessage;
  /** The check's time: when a start began, when a clear streak began. */
  now: Date;
}

async function insertMessages(
  db: Db,
  dedupeKey: string,
  channels: readonly AlertChannel[],
  message: NewAlertMessage,
): Promise<number> {
  if (channels.length === 0) return 0;
  const r = await sql`
    insert into alert_messages (dedupe_key, channel, kind, subject, body)
    select ${dedupeKey} || ':' || ch, ch, ${message.kind}, ${message.subject}, ${message.body}
    from unnest(${[...channels]}::text[]) as ch
    on conflict (dedupe_key) do nothing`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Apply one check's result: a condition firing that was not active starts, an active one not firing
 * ends once it has been seen clear for `clearAfterMs`. Each change writes its messages in the same
 * transaction. Row locks make concurrent checks take turns, so a change is written once. Returns the
 * changes this call made.
 */
export async function applyAlertCheck(
  db: Db,
  firing: readonly FiringAlert[],
  options: ApplyAlertsOptions,
): Promise<AlertTransition[]> {
  return db.transaction().execute(async (trx) => {
    const at = options.now;
    const { rows: states } = await sql<AlertState>`
      select condition, subject, active, changed_at, clear_since, detail from alert_states
      where condition = any(${[...options.evaluated]}::text[]) or active
      order by condition, subject for update`.execute(trx);
    const key = (c: string, s: string) => `${c}\u0000${s}`;
    const known = new Map(states.map((s) => [key(s.condition, s.subject), s]));
    const changes: AlertTransition[] = [];
    const firingKeys = new Set<string>();
    for (const f of firing) {
      firingKeys.add(key(f.condition, f.subject));
      const state = known.get(key(f.condition, f.subject));
      if (state?.active) {
        // Still on: keep the newest detail for the day's summary; a clear streak is broken.
        await sql`update alert_states set detail = ${f.detail}, clear_since = null, checked_at = ${at}
          where condition = ${f.condition} and subject = ${f.subject}`.execute(trx);
        continue;
      }
      // A new start, unless a concurrent check wrote it first (the insert then changes nothing).
      const { rows } = await sql<{ changed_at: Date }>`
        insert into alert_states (condition, subject, active, changed_at, detail, checked_at)
        values (${f.condition}, ${f.subject}, true, ${at}, ${f.detail}, ${at})
        on conflict (condition, subject) do update
          set active = true, changed_at = excluded.changed_at, clear_since = null, detail = excluded.detail,
              checked_at = excluded.checked_at
          where not alert_states.active
        returning changed_at`.execute(trx);
      if (rows.length === 0) continue;
      const t: AlertTransition = { ...f, kind: 'started', at, startedAt: at };
      await insertMessages(trx, messageKey(t), options.channels, options.render(t));
      changes.push(t);
    }
    const evaluated = new Set(options.evaluated);
    for (const s of states) {
      if (!s.active || !evaluated.has(s.condition) || firingKeys.has(key(s.condition, s.subject))) continue;
      const clearSince = s.clear_since ?? at;
      if (at.getTime() - clearSince.getTime() < options.clearAfterMs) {
        if (!s.clear_since)
          await sql`update alert_states set clear_since = ${at}, checked_at = ${at}
            where condition = ${s.condition} and subject = ${s.subject}`.execute(trx);
        continue;
      }
      await sql`update alert_states set active = false, changed_at = ${clearSince}, clear_since = null, checked_at = ${at}
        where condition = ${s.condition} and subject = ${s.subject} and active`.execute(trx);
      const t: AlertTransition = {
        condition: s.condition,
        subject: s.subject,
        kind: 'ended',
        detail: s.detail,
        at: clearSince,
        startedAt: s.changed_at,
      };
      await insertMessages(trx, messageKey(t), options.channels, options.render(t));
      changes.push(t);
    }
    return changes;
  });
}

/** One message per change: a start and an end are told once each, whoever writes them. */
function messageKey(t: AlertTransition): string {
  return `${t.condition}/${t.subject}:${t.kind}:${t.startedAt.toISOString()}`;
}

/** Conditions active now, oldest first (for the daily summary). */
export async function findActiveAlerts(db: Db): Promise<AlertState[]> {
  const { rows } = await sql<AlertState>`
    select condition, subject, active, changed_at, clear_since, detail from alert_states
    where active order by changed_at, condition, subject`.execute(db);
  return rows;
}

/** Write the day's summary once per channel (a second writer for the same day changes nothing). Returns rows written. */
export async function queueDailySummary(
  db: Db,
  day: string,
  channels: readonly AlertChannel[],
  message: Omit<NewAlertMessage, 'kind'>,
): Promise<number> {
  return insertMessages(db, `summary:${day}`, channels, { ...message, kind: 'summary' });
}

/** Whether the day's summary has been written already (it may still be unsent). */
export async function dailySummaryQueued(db: Db, day: string): Promise<boolean> {
  const { rows } = await sql`select 1 from alert_messages where dedupe_key like ${`summary:${day}:%`} limit 1`.execute(
    db,
  );
  return rows.length > 0;
}

export interface AlertMessage {
  id: string;
  channel: AlertChannel;
  kind: AlertMessageKind;
  subject: string;
  body: string;
  attempts: number;
  created_at: Date;
}

/**
 * Claim up to `limit` unsent messages for `leaseMs` (oldest first): another sender skips them until
 * the lease runs out, so a message is sent twice only if a sender died after sending and before
 * marking it. Messages that failed `maxAttempts` times are left (with their error) and not tried again.
 */
export async function claimAlertMessages(
  db: Db,
  channels: readonly AlertChannel[],
  options: { limit: number; leaseMs: number; maxAttempts: number },
): Promise<AlertMessage[]> {
  if (channels.length === 0) return [];
  const { rows } = await sql<AlertMessage>`
    update alert_messages set claimed_until = now() + make_interval(secs => ${options.leaseMs / 1000}),
      attempts = attempts + 1
    where id in (
      select id from alert_messages
      where sent_at is null and attempts < ${options.maxAttempts} and channel = any(${[...channels]}::text[])
        and (claimed_until is null or claimed_until < now())
      order by id limit ${options.limit} for update skip locked)
    returning id, channel, kind, subject, body, attempts, created_at`.execute(db);
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

export async function markAlertMessageSent(db: Db, id: string): Promise<void> {
  await sql`update alert_messages set sent_at = now(), claimed_until = null, last_error = null where id = ${id}`.execute(
    db,
  );
}

/** A failed send: tried again at a later check (the lease is dropped so that the next check may). */
export async function markAlertMessageFailed(db: Db, id: string, error: string): Promise<void> {
  await sql`update alert_messages set claimed_until = null, last_error = ${error.slice(0, 500)} where id = ${id}`.execute(
    db,
  );
}

/** Retention: messages (sent or given up on) created before `before` go. */
export async function deleteOldAlertMessages(db: Db, before: Date): Promise<number> {
  const r = await sql`delete from alert_messages where created_at < ${before}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
