import { Client } from 'pg';
import { createDb, migrateToLatest } from '@callsync/db';
import { migrations } from '@callsync/migrations';
import { databaseUrl, serviceUrls, TEMPLATE_DATABASE, TEST_DB_PREFIX } from './env';

/** Build a migrated template database once per run; each test file clones it (fast, isolated). */
export default async function globalSetup(): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl('postgres') });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `cannot reach the test Postgres at ${serviceUrls().databaseUrl}: start it with \`make test\` (scripts/services.sh start)`,
      { cause: err },
    );
  }
  try {
    // Leftovers of interrupted runs.
    const { rows } = await admin.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [TEST_DB_PREFIX],
    );
    for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const db = createDb({ url: databaseUrl(TEMPLATE_DATABASE), poolSize: 1 });
  try {
    await migrateToLatest(db, migrations);
  } finally {
    await db.destroy();
  }
}
