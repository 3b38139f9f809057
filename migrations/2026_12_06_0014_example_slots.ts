import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * The table of the shipped example function check_availability (examples/functions/check-availability.ts),
 * which the production ingress registers: without it the function answered 500 on a freshly migrated
 * database. `if not exists`: where the example's test (or a team by hand) created it, this still runs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table if not exists example_appointment_slots (
    company_id bigint not null,
    starts_at timestamptz not null,
    booked boolean not null default false,
    primary key (company_id, starts_at)
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists example_appointment_slots`.execute(db);
}
