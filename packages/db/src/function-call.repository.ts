import { sql } from 'kysely';
import type { Db } from './database';
import type { FunctionCall, FunctionCallStatus } from './function-call.table';

/** The newest invocation with this key started within the last `windowMs`, if any. */
export async function findRecentInvocation(db: Db, key: string, windowMs: number): Promise<FunctionCall | undefined> {
  return db
    .selectFrom('function_calls')
    .selectAll()
    .where('invocation_key', '=', key)
    .where('created_at', '>', sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Record an invocation as running, unless one with the same key is running already (a unique index
 * over running rows): then undefined, and the caller waits for that one.
 */
export async function startInvocation(
  db: Db,
  r: { callId: string | null; name: string; argsJson: string; key: string },
): Promise<string | undefined> {
  const row = await sql<{ id: string }>`
    insert into function_calls (call_id, name, args, invocation_key) values (${r.callId}, ${r.name}, ${r.argsJson}::jsonb, ${r.key})
    on conflict (invocation_key) where status = 'running' do nothing
    returning id`.execute(db);
  return row.rows[0]?.id;
}

export async function finishInvocation(
  db: Db,
  id: string,
  r: {
    status: Exclude<FunctionCallStatus, 'running'>;
    result?: string | null;
    error?: string | null;
    durationMs: number;
  },
): Promise<void> {
  await db
    .updateTable('function_calls')
    .set({
      status: r.status,
      result: r.result ?? null,
      error: r.error?.slice(0, 4000) ?? null,
      duration_ms: Math.round(r.durationMs),
      finished_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/** A retry answered from the recorded result. */
export async function countReplay(db: Db, id: string): Promise<void> {
  await db
    .updateTable('function_calls')
    .set((eb) => ({ replays: eb('replays', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/**
 * findRecentInvocation and startInvocation in one round trip: the newest invocation with this key
 * within `windowMs`, and, unless that one answered already or is running, a new running row.
 */
export async function claimInvocation(
  db: Db,
  r: { callId: string | null; name: string; argsJson: string; key: string; windowMs: number },
): Promise<{ recent: FunctionCall | undefined; startedId: string | undefined }> {
  const { rows } = await sql<{ recent: FunctionCall | null; started_id: string | null }>`
    with recent as (
      select * from function_calls
      where invocation_key = ${r.key} and created_at > now() - make_interval(secs => ${r.windowMs / 1000})
      order by id desc limit 1
    ),
    started as (
      insert into function_calls (call_id, name, args, invocation_key)
      select ${r.callId}, ${r.name}, ${r.argsJson}::jsonb, ${r.key}
      where not exists (select 1 from recent where status in ('ok', 'bad_args', 'running'))
      on conflict (invocation_key) where status = 'running' do nothing
      returning id
    )
    select (select row_to_json(recent) from recent) as recent, (select id::text from started) as started_id`.execute(
    db,
  );
  const row = rows[0]!;
  const recent = row.recent ? { ...row.recent, id: String(row.recent.id) } : undefined;
  return { recent, startedId: row.started_id ?? undefined };
}

/** The function invocations of one call, oldest first (the console's timeline). */
export async function findFunctionCallsOf(db: Db, callId: string): Promise<FunctionCall[]> {
  return db.selectFrom('function_calls').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}
