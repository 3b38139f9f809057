import { sql } from 'kysely';
import type { Db } from '../database';

/* What `make bench` seeds and measures. */

/**
 * Create another database on the same server, owned by the connecting role (`make bench` gives the
 * naive ingress one of its own). Its URL is the connection's with the new name.
 */
export async function createDatabase(db: Db, url: string, name: string): Promise<string> {
  await sql`create database ${sql.id(name)}`.execute(db);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Rows processed at or after `since`: how many, and the first and last processing time. */
export async function processedSince(
  db: Db,
  since: Date,
): Promise<{ events: number; first: Date | null; last: Date | null }> {
  const r = await sql<{ n: string; first: Date | null; last: Date | null }>`
    select count(*) as n, min(processed_at) as first, max(processed_at) as last
    from webhook_events where processed_at >= ${since}`.execute(db);
  const row = r.rows[0]!;
  return { events: Number(row.n), first: row.first, last: row.last };
}

/** Received-to-processed latency of the rows received at or after `since`, in ms. */
export async function processingLatency(
  db: Db,
  since: Date,
): Promise<{ events: number; p50Ms: number; p99Ms: number }> {
  const r = await sql<{ n: string; p50: number | null; p99: number | null }>`
    select count(*) as n,
           percentile_cont(0.5) within group (order by extract(epoch from processed_at - created_at) * 1000) as p50,
           percentile_cont(0.99) within group (order by extract(epoch from processed_at - created_at) * 1000) as p99
    from webhook_events where created_at >= ${since}`.execute(db);
  const row = r.rows[0]!;
  return { events: Number(row.n), p50Ms: Math.round(row.p50 ?? 0), p99Ms: Math.round(row.p99 ?? 0) };
}

/**
 * `make bench`'s sweeper measurement: `rows` pending call_started rows stored 10 minutes ago (older
 * than the sweep's threshold), inserted in chunks and vacuumed as autovacuum would have; their ids in
 * numeric order.
 */
export async function seedPendingEventsForBench(db: Db, rows: number): Promise<string[]> {
  const chunk = 200_000;
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1);
    await sql`
      insert into webhook_events (event_type, event_id, call_id, dedupe_key, payload, status, created_at)
      select 'call_started', 'call_' || g, 'call_' || g, 'bench:' || g, '{}'::jsonb, 'pending', now() - interval '10 minutes'
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
  }
  // Without it the first scan pays for setting every row's hint bits, which a table filled over time has long paid.
  await sql`vacuum (analyze) webhook_events`.execute(db);
  // Numeric order (an "order by id" here would sort the text alias).
  const { rows: ids } = await sql<{ id: string }>`
    select id::text as id from webhook_events order by webhook_events.id`.execute(db);
  return ids.map((r) => r.id);
}
