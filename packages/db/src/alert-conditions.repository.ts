import { sql } from 'kysely';
import type { Db } from './database';

/*
 * What callsync's own notifier reads to decide whether a condition holds (the same conditions as
 * ops/prometheus/alerts.yml, read from Postgres, the source of truth, instead of from metrics).
 * Each is one small query over an index.
 */

/** Calls and chats discovery created (Retell listed them, no webhook had announced them) in passes started since `since`. */
export async function countDiscoveredSince(db: Db, since: Date): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select coalesce(sum(discovered), 0)::int as n from reconcile_runs where started_at >= ${since}`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Whether Retell delivered any webhook (not a row written by reconciliation or a replay) since `since`. */
export async function webhookReceivedSince(db: Db, since: Date): Promise<boolean> {
  const { rows } = await sql<{ yes: boolean }>`
    select exists (
      select 1 from webhook_events
      where provider = 'retell' and created_at >= ${since} and source = 'webhook'
    ) as yes`.execute(db);
  return rows[0]?.yes ?? false;
}

/**
 * Events reconciliation wrote since `since` (source `reconcile`: calls discovery imported, endings
 * and analysis it fetched): Retell had calls in that time, whatever reached the ingress.
 */
export async function countReconciledEventsSince(db: Db, since: Date): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from webhook_events
    where provider = 'retell' and created_at >= ${since} and source = 'reconcile'`.execute(db);
  return rows[0]?.n ?? 0;
}

export interface LatestRetentionRun {
  id: string;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
}

/** The newest retention run, if any has run. */
export async function latestRetentionRun(db: Db): Promise<LatestRetentionRun | undefined> {
  const { rows } = await sql<LatestRetentionRun>`
    select id, started_at, finished_at, error from retention_runs order by started_at desc, id desc limit 1`.execute(
    db,
  );
  return rows[0];
}

export interface DestinationHolding {
  destination_id: string;
  /** The destination's host only: a URL's path or query may carry a token. */
  host: string;
  state: 'active' | 'paused';
  paused_reason: string | null;
  held: number;
  oldest_held_at: Date | null;
}

/**
 * Destinations paused since before `before` (by an operator or the circuit breaker: the row's last
 * change), or holding a delivery created before `before`.
 */
export async function findDestinationsHolding(db: Db, before: Date): Promise<DestinationHolding[]> {
  const { rows } = await sql<DestinationHolding & { url: string }>`
    select d.id as destination_id, d.url, d.state, d.paused_reason,
      count(f.id)::int as held, min(f.created_at) as oldest_held_at
    from forward_destinations d
    left join forward_deliveries f on f.destination_id = d.id and f.status = 'held'
    where d.state <> 'removed'
    group by d.id
    having (d.state = 'paused' and d.updated_at < ${before}) or min(f.created_at) < ${before}
    order by d.id`.execute(db);
  return rows.map(({ url, ...r }) => ({ ...r, host: hostOf(url) }));
}

export interface DestinationBacklog {
  destination_id: string;
  host: string;
  pending: number;
  oldest_pending_at: Date;
}

/** Destinations whose oldest pending delivery (not yet sent, not held) was created before `before`. */
export async function findForwardBacklogs(db: Db, before: Date): Promise<DestinationBacklog[]> {
  const { rows } = await sql<DestinationBacklog & { url: string }>`
    select d.id as destination_id, d.url, count(*)::int as pending, min(f.created_at) as oldest_pending_at
    from forward_deliveries f join forward_destinations d on d.id = f.destination_id
    where f.status = 'pending' and d.state <> 'removed'
    group by d.id
    having min(f.created_at) < ${before}
    order by d.id`.execute(db);
  return rows.map(({ url, ...r }) => ({ ...r, host: hostOf(url) }));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
