import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * callsync's own notifications (issue 32): mail and a Slack-compatible webhook without a Prometheus
 * stack. The state lives here, not in a process, so a restart or a second worker never tells the
 * same thing twice.
 *
 * alert_states: one row per condition (and subject, e.g. a destination) that has ever fired; `active`
 * flips once when it starts and once when it ends.
 * alert_messages: the outbox of what to tell, one row per message and channel, written in the same
 * transaction as the flip (or the day's summary), sent and marked by whoever claims it first.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('alert_states')
    .addColumn('condition', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('active', 'boolean', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('clear_since', 'timestamptz')
    .addColumn('detail', 'text')
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('alert_states_pkey', ['condition', 'subject'])
    .execute();

  await db.schema
    .createTable('alert_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('webhook', 'email')`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('started', 'ended', 'summary')`))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('alert_messages_unsent_idx')
    .on('alert_messages')
    .column('id')
    .where(sql.ref('sent_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('alert_messages').execute();
  await db.schema.dropTable('alert_states').execute();
}
