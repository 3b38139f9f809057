import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  PostgresDriver,
  sql,
  type DatabaseConnection,
  type PostgresDialectConfig,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { AgentTable } from './agent.table';
import type { AuditRunTable } from './audit-run.table';
import type { ApiTokenTable } from './api-token.table';
import type { ErasureTable } from './erasure.table';
import type { CallSessionTable } from './call-session.table';
import type { CallTransferEventTable } from './call-transfer-event.table';
import type { ChatSessionTable } from './chat-session.table';
import type { BlockedNumberTable, CompanyTable, InboundScheduleTable, PhoneNumberTable } from './company.table';
import type { ForwardAttemptTable, ForwardDeliveryTable, ForwardDestinationTable } from './forward.table';
import type { FunctionCallTable } from './function-call.table';
import type { DiscoveryWatermarkTable, ReconcileRunTable } from './reconcile-run.table';
import type { RetentionRunTable } from './retention-run.table';
import type { WebhookEventTable } from './webhook-event.table';

export interface Database {
  webhook_events: WebhookEventTable;
  retell_call_sessions: CallSessionTable;
  retell_chat_sessions: ChatSessionTable;
  retell_call_transfer_events: CallTransferEventTable;
  retell_agents: AgentTable;
  companies: CompanyTable;
  retell_phone_numbers: PhoneNumberTable;
  inbound_schedules: InboundScheduleTable;
  company_blocked_numbers: BlockedNumberTable;
  function_calls: FunctionCallTable;
  forward_destinations: ForwardDestinationTable;
  forward_deliveries: ForwardDeliveryTable;
  forward_attempts: ForwardAttemptTable;
  reconcile_runs: ReconcileRunTable;
  discovery_watermarks: DiscoveryWatermarkTable;
  retention_runs: RetentionRunTable;
  api_tokens: ApiTokenTable;
  erasures: ErasureTable;
  audit_runs: AuditRunTable;
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
  /** Server-side lock_timeout: give up waiting for a lock (SQLSTATE 55P03) after this long. Default none. */
  lockTimeoutMs?: number;
  /**
   * Server-side idle_in_transaction_session_timeout: Postgres ends a session that sits in an open
   * transaction this long, releasing its locks (a frozen or partitioned process). Default none.
   */
  idleInTransactionTimeoutMs?: number;
  /** Client-side limit on one query, which also covers a server that stopped answering. Default none. */
  queryTimeoutMs?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Commit transactions without waiting for the WAL flush (SET LOCAL synchronous_commit = off, sent with
   * BEGIN in one round trip). Only for work that is safe to redo: a crash of Postgres can undo the last
   * few hundred ms of such commits, never anything else. Local to each transaction, so behind a pooler
   * in transaction mode it cannot leak onto another client's work. Default false.
   */
  asyncCommit?: boolean;
}

/** Starts every transaction with synchronous_commit off, in the same round trip as BEGIN. */
class AsyncCommitDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) {
      await super.beginTransaction(connection, settings);
      await connection.executeQuery(CompiledQuery.raw('set local synchronous_commit = off'));
      return;
    }
    // No parameters: the simple query protocol, which takes both statements at once.
    await connection.executeQuery(CompiledQuery.raw('begin; set local synchronous_commit = off'));
  }
}

class AsyncCommitDialect extends PostgresDialect {
  constructor(private readonly dialectConfig: PostgresDialectConfig) {
    super(dialectConfig);
  }
  override createDriver(): PostgresDriver {
    return new AsyncCommitDriver(this.dialectConfig);
  }
}

export function createDb(options: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    statement_timeout: options.statementTimeoutMs,
    lock_timeout: options.lockTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    application_name: options.applicationName ?? 'callsync',
    keepAlive: true,
    // TCP keepalive probes start after 10 s idle instead of the OS default of about 2 h, so a dead
    // peer (a host gone without closing) is noticed in seconds.
    keepAliveInitialDelayMillis: 10_000,
  });
  // A client losing its server (Postgres restarting, a network cut) emits 'error'. The pool listens
  // only while a client is idle; a checked-out client between two statements of a transaction has no
  // listener, and an unhandled 'error' kills the process. The statement in flight fails on its own,
  // and the pool discards the broken client when it is released, so listening is all that is needed.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const dialect = options.asyncCommit ? new AsyncCommitDialect({ pool }) : new PostgresDialect({ pool });
  return new Kysely<Database>({ dialect });
}

/** Resolves when Postgres answers a trivial query. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
