import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { AgentTable } from './agent.table';
import type { CallSessionTable } from './call-session.table';
import type { ReconcileRunTable } from './reconcile-run.table';
import type { RetentionRunTable } from './retention-run.table';
import type { WebhookEventTable } from './webhook-event.table';

export interface Database {
  webhook_events: WebhookEventTable;
  retell_call_sessions: CallSessionTable;
  retell_agents: AgentTable;
  reconcile_runs: ReconcileRunTable;
  retention_runs: RetentionRunTable;
}

export type Db = Kysely<Database>;

export interface DbOptions {
  url: string;
  /** Pool size. Default 10. */
  poolSize?: number;
  /** Give up connecting after this long, so callers can fail fast (ingress answers 503). Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout. Default none. */
  statementTimeoutMs?: number;
  /** Client-side limit on one query, which also covers a server that stopped answering. Default none. */
  queryTimeoutMs?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Commit without waiting for the WAL flush (synchronous_commit = off) on every connection. Only for
   * work that is safe to redo: a crash of Postgres can undo the last few hundred ms of such commits,
   * never anything else. Default false.
   */
  asyncCommit?: boolean;
}

export function createDb(options: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    application_name: options.applicationName ?? 'callsync',
    keepAlive: true,
  });
  // A client losing its server (Postgres restarting, a network cut) emits 'error'. The pool listens
  // only while a client is idle; a checked-out client between two statements of a transaction has no
  // listener, and an unhandled 'error' kills the process. The statement in flight fails on its own,
  // and the pool discards the broken client when it is released, so listening is all that is needed.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    // Queued ahead of anything the pool hands this client out for.
    if (options.asyncCommit) client.query('set synchronous_commit = off').catch(() => {});
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Resolves when Postgres answers a trivial query. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
