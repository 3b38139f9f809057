import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database';
import { callAnalysisColumns, setList } from './session-fields';

/*
 * The data half of the migrations, run by `migrate` after the schema migrations and outside their
 * transaction: batched backfills along the primary key and indexes built concurrently, so a big
 * table is never locked against writes. Each step is idempotent and cheap once done.
 */

async function idRange(db: Db, table: string, where: RawBuilder<unknown>): Promise<[bigint, bigint] | null> {
  const { rows } = await sql<{ min: string | null; max: string | null }>`
    select min(id) as min, max(id) as max from ${sql.table(table)} where ${where}`.execute(db);
  const { min, max } = rows[0]!;
  return min === null || max === null ? null : [BigInt(min), BigInt(max)];
}

/** Run `update(from, to)` over [min, max] of the ids in `batch`-sized steps; returns the rows it changed. */
async function inBatches(
  range: [bigint, bigint] | null,
  batch: number,
  update: (from: string, to: string) => Promise<bigint | undefined>,
): Promise<number> {
  if (!range) return 0;
  let changed = 0;
  for (let from = range[0]; from <= range[1]; from += BigInt(batch)) {
    changed += Number((await update(from.toString(), (from + BigInt(batch)).toString())) ?? 0);
  }
  return changed;
}

/** Build an index without blocking writes; a build that failed half-way left an invalid one, rebuilt here. */
async function ensureIndexConcurrently(db: Db, name: string, definition: RawBuilder<unknown>): Promise<void> {
  const invalid = await sql<{ n: string }>`
    select count(*) as n from pg_index i join pg_class c on c.oid = i.indexrelid
    where c.relname = ${name} and not i.indisvalid`.execute(db);
  if (Number(invalid.rows[0]!.n) > 0) await sql`drop index concurrently ${sql.id(name)}`.execute(db);
  await sql`create index concurrently if not exists ${sql.id(name)} on ${definition}`.execute(db);
}

/**
 * Migration 0006 (event_id becomes call_id): fill call_id on call rows stored before the column
 * existed, then index it. Chat rows and rows without a subject have no call id. Returns the rows filled.
 */
export async function completeCallIdBackfill(db: Db, batch = 5000): Promise<number> {
  const todo = sql`call_id is null and chat_id is null and event_id is not null`;
  const filled = await inBatches(await idRange(db, 'webhook_events', todo), batch, async (from, to) => {
    const r = await sql`
      update webhook_events set call_id = event_id
      where id >= ${from}::bigint and id < ${to}::bigint and ${todo}`.execute(db);
    return r.numAffectedRows;
  });
  await ensureIndexConcurrently(db, 'webhook_events_call_id_idx', sql`webhook_events (call_id)`);
  return filled;
}

/**
 * Migration 0007: copy the queried fields into sessions stored before they were columns, from the
 * session's analysis and the newest call_ended/call_analyzed payload retention has not pruned yet.
 * `all` recomputes every session (make backfill-fields ARGS=--all), not only those never filled.
 * Returns the sessions it updated.
 */
export async function backfillSessionFields(db: Db, options: { batch?: number; all?: boolean } = {}): Promise<number> {
  const todo = options.all ? sql`true` : sql`fields_version is null`;
  const range = await idRange(db, 'retell_call_sessions', todo);
  return inBatches(range, options.batch ?? 2000, async (from, to) => {
    const r = await sql`
      update retell_call_sessions s set
        ${setList(callAnalysisColumns(sql`s.analysis`))},
        telephony_identifier = coalesce(p.call->'telephony_identifier', s.telephony_identifier),
        retell_llm_dynamic_variables = coalesce(p.call->'retell_llm_dynamic_variables', s.retell_llm_dynamic_variables),
        collected_dynamic_variables = coalesce(p.call->'collected_dynamic_variables', s.collected_dynamic_variables),
        latency = coalesce(p.call->'latency', s.latency),
        llm_token_usage = coalesce(p.call->'llm_token_usage', s.llm_token_usage),
        transcript_final = s.transcript_final or (s.lifecycle_rank >= 2 and s.transcript is not null),
        fields_version = 1
      from (
        select s2.id, (
          select e.payload->'call' from webhook_events e
          where e.call_id = s2.call_id and e.event_type in ('call_ended', 'call_analyzed') and e.pruned_at is null
          order by e.event_type = 'call_analyzed' desc, e.id desc limit 1
        ) as call
        from retell_call_sessions s2
        where s2.id >= ${from}::bigint and s2.id < ${to}::bigint and ${todo}
      ) p
      where s.id = p.id`.execute(db);
    return r.numAffectedRows;
  });
}

/**
 * The indexes written for every event (issue 16). Each row of webhook_events is inserted and then
 * updated (pending to processed), and a call's session is written once per event; neither update can
 * be HOT (the status, and the session's indexed columns, change), so every full index gets an entry
 * each time. Full indexes whose queries a smaller one answers as well are replaced, built first and
 * dropped after, both without blocking writes:
 * - webhook_events_status_created_idx (status, created_at desc, id desc) and the (created_at) partial
 *   indexes of pending and failed rows: the console's keyset walk by status uses a partial
 *   (created_at, id) index per status a row leaves or rarely reaches (pending, failed, skipped), which
 *   also answers the backlog gauges, replay and the sweeper's cutoff; `processed` walks
 *   webhook_events_console_idx;
 * - webhook_events_provider_created_at_idx: the processing-rate report's window is a range of
 *   webhook_events_console_idx (every row's provider is 'retell');
 * - retell_call_sessions_company_started_idx (company_id, started_at):
 *   retell_call_sessions_console_company_idx starts with the same columns.
 * test/console.queries.test.ts shows each of those queries still reading an index on a million rows.
 */
async function trimWritePathIndexes(db: Db): Promise<void> {
  for (const status of ['pending', 'failed', 'skipped'])
    await ensureIndexConcurrently(
      db,
      `webhook_events_${status}_keyset_idx`,
      sql`webhook_events (created_at, id) where status = ${sql.lit(status)}`,
    );
  for (const name of [
    'webhook_events_status_created_idx',
    'webhook_events_pending_idx',
    'webhook_events_failed_idx',
    'webhook_events_provider_created_at_idx',
    'retell_call_sessions_company_started_idx',
  ])
    await sql`drop index concurrently if exists ${sql.id(name)}`.execute(db);
}

/** Every data step, in order; returns what each one did, for `migrate` to report. */
export async function completeDataMigrations(db: Db): Promise<{ callIdsFilled: number; sessionFieldsFilled: number }> {
  const callIdsFilled = await completeCallIdBackfill(db);
  await ensureIndexConcurrently(
    db,
    'webhook_events_chat_id_idx',
    sql`webhook_events (chat_id) where chat_id is not null`,
  );
  const sessionFieldsFilled = await backfillSessionFields(db);
  await ensureIndexConcurrently(
    db,
    'retell_call_sessions_custom_analysis_idx',
    sql`retell_call_sessions using gin (custom_analysis_data)`,
  );
  await ensureIndexConcurrently(
    db,
    'retell_call_sessions_twilio_call_sid_idx',
    sql`retell_call_sessions ((telephony_identifier->>'twilio_call_sid')) where telephony_identifier is not null`,
  );
  await trimWritePathIndexes(db);
  return { callIdsFilled, sessionFieldsFilled };
}
