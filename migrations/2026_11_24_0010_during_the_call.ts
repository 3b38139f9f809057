import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * During the call (issue 13): custom function invocations, inbound routing, and the indexes the call
 * context reads the caller's history through.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('function_calls')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('call_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('args', 'jsonb', (c) => c.notNull())
    // call, name and a hash of the args: a retry of the same invocation has the same key.
    .addColumn('invocation_key', 'text', (c) => c.notNull())
    // running -> ok | bad_args | error | timeout
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('running'))
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer')
    // Retries answered from this row instead of running the handler again.
    .addColumn('replays', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addCheckConstraint('function_calls_status_check', sql`status in ('running', 'ok', 'bad_args', 'error', 'timeout')`)
    .execute();
  await db.schema
    .createIndex('function_calls_invocation_idx')
    .on('function_calls')
    .columns(['invocation_key', 'created_at'])
    .execute();
  // At most one run of an invocation at a time: a retry that arrives meanwhile waits for it.
  await db.schema
    .createIndex('function_calls_running_idx')
    .on('function_calls')
    .column('invocation_key')
    .unique()
    .where(sql.ref('status'), '=', 'running')
    .execute();
  await db.schema.createIndex('function_calls_call_id_idx').on('function_calls').column('call_id').execute();

  // A caller's history within a company: the customer's number is from_number inbound, to_number
  // outbound; pruned sessions keep only its hash.
  await sql`create index retell_call_sessions_customer_idx on retell_call_sessions
    (company_id, (case when direction = 'outbound' then to_number else from_number end), started_at)`.execute(db);
  await sql`create index retell_call_sessions_caller_hash_idx on retell_call_sessions (company_id, caller_hash) where caller_hash is not null`.execute(
    db,
  );

  // Inbound routing: static dynamic variables per number, agents by time window, blocked callers.
  await db.schema
    .alterTable('retell_phone_numbers')
    .addColumn('dynamic_variables', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema
    .createTable('inbound_schedules')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('phone_number', 'text', (c) =>
      c.notNull().references('retell_phone_numbers.phone_number').onDelete('cascade'),
    )
    // ISO weekdays, 1 = Monday ... 7 = Sunday, in the company's time zone.
    .addColumn('weekdays', sql`smallint[]`, (c) => c.notNull())
    .addColumn('starts_at', 'time', (c) => c.notNull())
    .addColumn('ends_at', 'time', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('agent_version', 'integer')
    .addCheckConstraint('inbound_schedules_window_check', sql`starts_at < ends_at`)
    .execute();
  await db.schema.createIndex('inbound_schedules_number_idx').on('inbound_schedules').column('phone_number').execute();
  await db.schema
    .createTable('company_blocked_numbers')
    .addColumn('company_id', 'bigint', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('company_blocked_numbers_pk', ['company_id', 'phone_number'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('company_blocked_numbers').execute();
  await db.schema.dropTable('inbound_schedules').execute();
  await db.schema.alterTable('retell_phone_numbers').dropColumn('dynamic_variables').execute();
  await db.schema.dropIndex('retell_call_sessions_caller_hash_idx').execute();
  await db.schema.dropIndex('retell_call_sessions_customer_idx').execute();
  await db.schema.dropTable('function_calls').execute();
}
