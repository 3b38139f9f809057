import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Client } from 'pg';
import { createDb, type Db } from '@callsync/db';
import { databaseUrl, TEMPLATE_DATABASE, TEST_DB_PREFIX } from './env';

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, migrated database for one test file: a clone of the template built in global setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin((c) => c.query(`create database "${name}" template ${TEMPLATE_DATABASE}`));
  const url = databaseUrl(name);
  const db = createDb({ url, poolSize: 20 });
  return {
    name,
    url,
    db,
    async drop() {
      await db.destroy();
      await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** Empty the tables between tests that share a file's database. */
export async function truncateAll(db: Db): Promise<void> {
  await sql`truncate webhook_events, retell_call_sessions, retell_chat_sessions, retell_call_transfer_events, retell_agents, retell_phone_numbers, inbound_schedules, company_blocked_numbers, companies, function_calls, discovery_watermarks, reconcile_runs, retention_runs, forward_attempts, forward_deliveries, forward_destinations, api_tokens, audit_runs, alert_states, alert_messages restart identity`.execute(
    db,
  );
}

/**
 * A fresh database for the calling test file: created before its tests, dropped after. The returned
 * handle reads through to it, so tests write `t.db` and `t.url` as with createTestDatabase.
 */
export function useTestDatabase(): TestDatabase {
  let current: TestDatabase | undefined;
  beforeAll(async () => {
    current = await createTestDatabase();
  });
  afterAll(() => current?.drop());
  const get = () => {
    if (!current) throw new Error('the test database exists only inside tests and hooks');
    return current;
  };
  return {
    get name() {
      return get().name;
    },
    get url() {
      return get().url;
    },
    get db() {
      return get().db;
    },
    drop: () => get().drop(),
  };
}
