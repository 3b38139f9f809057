import { sql } from 'kysely';
import type { Db } from './database';
import type { FunctionCall, FunctionCallStatus } from './function-call.table';
import {
  callForContextColumns,
  callForContextOf,
  contextFactsOf,
  contextFactsParts,
  type CallForContext,
  type CallForContextRow,
  type ContextFacts,
  type ContextFactsQuery,
  type ContextFactsRow,
} from './context.repository';

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

/**
 * Record how a running invocation ended. Only a row still `running` changes: a handler that finishes
 * after its hard timeout (recorded `timeout`, abandoned) cannot overwrite that. False if it had ended.
 */
export async function finishInvocation(
  db: Db,
  id: string,
  r: {
    status: Exclude<FunctionCallStatus, 'running'>;
    result?: string | null;
    error?: string | null;
    durationMs: number;
    /** The handler was still running at its hard timeout: its slot was freed without it. */
    abandoned?: boolean;
  },
): Promise<boolean> {
  const done = await db
    .updateTable('function_calls')
    .set({
      status: r.status,
      result: r.result ?? null,
      error: r.error?.slice(0, 4000) ?? null,
      duration_ms: Math.round(r.durationMs),
      finished_at: sql<Date>`now()`,
      ...(r.abandoned ? { abandoned_at: sql<Date>`now()` } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(done.numUpdatedRows) > 0;
}

/** A result an answer was given from: finishInvocations writes many in one statement. */
export interface AnsweredResult {
  id: string;
  status: 'ok' | 'bad_args';
  result: string;
  durationMs: number;
}

/**
 * finishInvocation for answered results, many in one statement (the live routes write results after
 * their answers, in groups). Only rows still `running` change.
 */
export async function finishInvocations(db: Db, results: readonly AnsweredResult[]): Promise<void> {
  if (!results.length) return;
  await sql`
    update function_calls f
    set status = v.status, result = v.result, error = null, duration_ms = v.duration_ms, finished_at = now()
    from unnest(${results.map((r) => r.id)}::bigint[], ${results.map((r) => r.status)}::text[],
      ${results.map((r) => r.result)}::text[], ${results.map((r) => Math.round(r.durationMs))}::int[])
      as v(id, status, result, duration_ms)
    where f.id = v.id and f.status = 'running'`.execute(db);
}

/** The agent was given the function's pending message; the handler goes on in the background. */
export async function markPendingAnswered(db: Db, id: string): Promise<void> {
  await db
    .updateTable('function_calls')
    .set({ pending_answered_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** A result finished in the background after the agent heard the pending message. */
export interface PendingResult {
  id: string;
  name: string;
  status: FunctionCallStatus;
  result: string | null;
  error: string | null;
}

/**
 * The call's results that finished after their pending message and were not handed to the agent yet
 * (`taken`, now marked delivered: each is handed over once), and those still running (`running`).
 * `name` and `argsJson` narrow it to one function's invocation with those args.
 */
export async function takePendingResults(
  db: Db,
  q: { callId: string; name?: string | null; argsJson?: string | null },
): Promise<{ taken: PendingResult[]; running: { id: string; name: string; created_at: string }[] }> {
  const name = q.name ?? null;
  const args = q.argsJson ?? null;
  const { rows } = await sql<{
    taken: PendingResult[] | null;
    running: { id: string; name: string; created_at: string }[] | null;
  }>`
    with due as (
      select id, name, status, created_at from function_calls
      where call_id = ${q.callId} and pending_answered_at is not null and delivered_at is null
        and (${name}::text is null or name = ${name}) and (${args}::jsonb is null or args = ${args}::jsonb)
    ),
    taken as (
      update function_calls f set delivered_at = now(), replays = f.replays + 1
      from due where f.id = due.id and due.status <> 'running'
      returning f.id::text as id, f.name, f.status, f.result, f.error
    )
    select (select json_agg(taken order by id::bigint) from taken) as taken,
      (select json_agg(json_build_object('id', id::text, 'name', name, 'created_at', created_at) order by id) from due where status = 'running') as running`.execute(
    db,
  );
  return { taken: rows[0]?.taken ?? [], running: rows[0]?.running ?? [] };
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
 * within `windowMs`, and, unless that one answered already or is running, a new running row. With
 * `context`, the same statement reads what the call's context needs (findCallForContext and, when
 * the caller can guess its query, findContextFacts): a function's answer then waits on one round trip.
 */
export async function claimInvocation(
  db: Db,
  r: {
    callId: string | null;
    name: string;
    argsJson: string;
    key: string;
    windowMs: number;
    /** Retell's id of the invocation, when the request carries one. */
    toolCallId?: string | null;
    /**
     * A timed-out run ends the invocation: its retries get that answer and never run it again (its
     * handler may have done its work). For keys that are Retell's invocation ids. Default false.
     */
    timeoutIsFinal?: boolean;
    /** Also read this call's stored state, and these facts. */
    context?: { callId: string; facts?: ContextFactsQuery };
  },
): Promise<{
  recent: FunctionCall | undefined;
  startedId: string | undefined;
  context?: CallForContext & { facts?: ContextFacts };
}> {
  const facts = r.context?.facts ? contextFactsParts(r.context.facts) : undefined;
  const { rows } = await sql<
    { recent: FunctionCall | null; started_id: string | null } & Partial<CallForContextRow & ContextFactsRow>
  >`
    with recent as (
      select * from function_calls
      where invocation_key = ${r.key} and created_at > now() - make_interval(secs => ${r.windowMs / 1000})
      order by id desc limit 1
    ),
    started as (
      insert into function_calls (call_id, name, args, invocation_key, tool_call_id)
      select ${r.callId}, ${r.name}, ${r.argsJson}::jsonb, ${r.key}, ${r.toolCallId ?? null}
      where not exists (select 1 from recent where status in ('ok', 'bad_args', 'running')
        or (${r.timeoutIsFinal ?? false}::boolean and status = 'timeout'))
      on conflict (invocation_key) where status = 'running' do nothing
      returning id
    )${facts ? sql`, ${facts.ctes}` : sql``}
    select (select row_to_json(recent) from recent) as recent, (select id::text from started) as started_id
      ${r.context ? sql`, ${callForContextColumns(r.context.callId)}` : sql``}
      ${facts ? sql`, ${facts.columns}` : sql``}`.execute(db);
  const row = rows[0]!;
  const recent = row.recent ? { ...row.recent, id: String(row.recent.id) } : undefined;
  const context = r.context
    ? {
        ...callForContextOf({ session: row.session ?? null, pending: row.pending ?? null }),
        ...(facts ? { facts: contextFactsOf(row as ContextFactsRow) } : {}),
      }
    : undefined;
  return { recent, startedId: row.started_id ?? undefined, ...(context ? { context } : {}) };
}

/** The function invocations of one call, oldest first (the console's timeline). */
export async function findFunctionCallsOf(db: Db, callId: string): Promise<FunctionCall[]> {
  return db.selectFrom('function_calls').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}
