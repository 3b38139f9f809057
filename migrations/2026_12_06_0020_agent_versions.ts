import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Agent versions compared (issue 29): every question is "this agent's versions" (newest first), with
 * an optional time range, so one index on (agent_id, agent_version, started_at) answers the list of
 * agents (a skip scan over agents, then their newest versions), one version's stats and the chart over
 * time. A company is a filter on those rows, not an index of its own (one more index on the hottest
 * table costs every webhook a write).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index retell_call_sessions_agent_version_idx on retell_call_sessions (agent_id, agent_version, started_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists retell_call_sessions_agent_version_idx`.execute(db);
}
