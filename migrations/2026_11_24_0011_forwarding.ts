import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Forwarding (issue 14): the team's own HTTP destinations, the outbox of deliveries to them (written
 * in the transaction that applies the event) and every attempt at sending one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('forward_destinations')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    // Event types forwarded; never empty.
    .addColumn('events', sql`text[]`, (c) => c.notNull())
    // Only this company's calls and chats; null: every company's, and unmapped ones.
    .addColumn('company_id', 'bigint', (c) => c.references('companies.id'))
    // raw: Retell's body as received; session: callsync's session row after the event.
    .addColumn('payload_mode', 'text', (c) => c.notNull().defaultTo('raw'))
    // Standard Webhooks secrets (whsec_...). During a rotation the previous one also signs until it expires.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    // active | paused (by the operator, or by the circuit breaker: paused_reason) | removed
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('paused_reason', 'text')
    .addColumn('rate_limit_per_second', 'integer')
    // Consecutive failed attempts that pause the destination; 0: never.
    .addColumn('breaker_threshold', 'integer', (c) => c.notNull().defaultTo(20))
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    // Send to link-local / metadata addresses (169.254.0.0/16, fe80::/10) anyway.
    .addColumn('allow_link_local', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('description', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('forward_destinations_state_check', sql`state in ('active', 'paused', 'removed')`)
    .addCheckConstraint('forward_destinations_mode_check', sql`payload_mode in ('raw', 'session')`)
    .addCheckConstraint('forward_destinations_events_check', sql`cardinality(events) > 0`)
    .execute();

  await db.schema
    .createTable('forward_deliveries')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('destination_id', 'bigint', (c) => c.notNull().references('forward_destinations.id'))
    .addColumn('webhook_event_id', 'bigint', (c) => c.notNull())
    // A transcript_updated row is applied again for each longer snapshot; each is forwarded.
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    // The call or chat id: deliveries of one subject to one destination go in order.
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('company_id', 'bigint')
    // webhook-id: stable across retries and replays, so receivers can dedupe.
    .addColumn('message_id', 'text', (c) =>
      c.notNull().defaultTo(sql`'msg_' || replace(gen_random_uuid()::text, '-', '')`),
    )
    // session mode: the body, fixed when the event was applied; raw mode reads the event's raw body.
    .addColumn('payload', 'jsonb')
    // pending | held (destination paused) | delivered | failed | cancelled (destination removed)
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A sender holds the delivery until then; another may take it after.
    .addColumn('lease_until', 'timestamptz')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('replay_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addCheckConstraint(
      'forward_deliveries_status_check',
      sql`status in ('pending', 'held', 'delivered', 'failed', 'cancelled')`,
    )
    .execute();
  // One delivery per applied event (and snapshot) per destination: applying twice forwards once.
  await db.schema
    .createIndex('forward_deliveries_event_idx')
    .on('forward_deliveries')
    .columns(['webhook_event_id', 'revision', 'destination_id'])
    .unique()
    .execute();
  // The head of each (destination, subject) chain: the oldest delivery not yet final.
  await db.schema
    .createIndex('forward_deliveries_chain_idx')
    .on('forward_deliveries')
    .columns(['destination_id', 'subject', 'id'])
    .where(sql.ref('status'), 'in', ['pending', 'held'])
    .execute();
  // The sweeper: pending deliveries whose job should have run by now.
  await db.schema
    .createIndex('forward_deliveries_due_idx')
    .on('forward_deliveries')
    .column('next_attempt_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  // make replay --destination, metrics per destination.
  await db.schema
    .createIndex('forward_deliveries_destination_idx')
    .on('forward_deliveries')
    .columns(['destination_id', 'created_at'])
    .execute();

  // Retention: finished deliveries by age.
  await db.schema
    .createIndex('forward_deliveries_finished_idx')
    .on('forward_deliveries')
    .column('finished_at')
    .where(sql.ref('status'), 'in', ['delivered', 'failed', 'cancelled'])
    .execute();

  await db.schema
    .createTable('forward_attempts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('delivery_id', 'bigint', (c) => c.notNull().references('forward_deliveries.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    // The first 1 KB of the response body, for failures.
    .addColumn('response_excerpt', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('forward_attempts_delivery_idx').on('forward_attempts').column('delivery_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('forward_attempts').execute();
  await db.schema.dropTable('forward_deliveries').execute();
  await db.schema.dropTable('forward_destinations').execute();
}
