import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Forwarding that is fair and heals itself (issue 28):
 * - per destination, deliveries in flight at most (`max_in_flight`, default 4), and an option to fail
 *   4xx answers at once (`fail_4xx`); every other non-2xx is retried;
 * - who paused a destination (`paused_by`: operator, breaker, gone = it answered 410). A breaker pause
 *   sends one probe delivery (`probe_delivery_id`) at `probe_at`, after a cool-down that doubles with
 *   each consecutive opening (`breaker_opens`) up to 1 h; success closes it;
 * - per delivery, how often a sender claimed it in Postgres (`claims`): with the limits checked in
 *   Redis before a claim, claims per send stays near 1.
 * Destinations paused before this migration: a circuit-breaker pause becomes the breaker's (probed at
 * once), any other the operator's.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('forward_destinations')
    .addColumn('max_in_flight', 'integer', (c) => c.notNull().defaultTo(4))
    .addColumn('fail_4xx', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('paused_by', 'text')
    .addColumn('breaker_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('probe_at', 'timestamptz')
    .addColumn('probe_delivery_id', 'bigint')
    .execute();
  await sql`alter table forward_destinations
    add constraint forward_destinations_max_in_flight_check check (max_in_flight > 0),
    add constraint forward_destinations_paused_by_check
      check (paused_by is null or paused_by in ('operator', 'breaker', 'gone'))`.execute(db);
  await sql`update forward_destinations set
      paused_by = case when paused_reason like 'circuit breaker%' then 'breaker' else 'operator' end,
      probe_at = case when paused_reason like 'circuit breaker%' then now() end,
      breaker_opens = case when paused_reason like 'circuit breaker%' then 1 else 0 end
    where state = 'paused'`.execute(db);
  await db.schema
    .alterTable('forward_deliveries')
    .addColumn('claims', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('forward_deliveries').dropColumn('claims').execute();
  await sql`alter table forward_destinations drop constraint forward_destinations_max_in_flight_check,
    drop constraint forward_destinations_paused_by_check`.execute(db);
  await db.schema
    .alterTable('forward_destinations')
    .dropColumn('max_in_flight')
    .dropColumn('fail_4xx')
    .dropColumn('paused_by')
    .dropColumn('breaker_opens')
    .dropColumn('probe_at')
    .dropColumn('probe_delivery_id')
    .execute();
}
