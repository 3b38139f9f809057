import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * The completeness audit (issue 32): one row per company per audit run, so the daily job's result
 * outlives the process (the gauges, the notifier and the daily summary read the newest row per
 * company). Gaps are kept by id with their reason, capped by the writer; the counts are exact.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_runs (
      id bigserial primary key,
      run_id uuid not null,
      trigger text not null check (trigger in ('scheduled', 'manual')),
      company text not null,
      company_name text,
      window_start timestamptz not null,
      window_end timestamptz not null,
      grace_seconds integer not null,
      listed integer not null default 0,
      complete integer not null default 0,
      in_flight integer not null default 0,
      gaps integer not null default 0,
      overdue integer not null default 0,
      gap_reasons jsonb not null default '{}'::jsonb,
      overdue_reasons jsonb not null default '{}'::jsonb,
      gap_list jsonb not null default '[]'::jsonb,
      finished_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index audit_runs_company_finished_idx on audit_runs (company, finished_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists audit_runs`.execute(db);
}
