/**
 * Where the test services are. `make test` sources scripts/local-env.sh, which points these at the
 * local Postgres and Redis started by scripts/services.sh.
 */
export function serviceUrls(): { databaseUrl: string; redisUrl: string } {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    throw new Error('DATABASE_URL and REDIS_URL must point at the test services: run the tests with `make test`');
  }
  return { databaseUrl, redisUrl };
}

/** The same server, another database. */
export function databaseUrl(name: string): string {
  const url = new URL(serviceUrls().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Test databases are named with this prefix, and a run drops every database with it left over from an
 * interrupted one. Two runs at once on one Postgres (two checkouts, two engineers) each set their own
 * CALLSYNC_TEST_DB_PREFIX (letters, digits, underscores), so neither drops the other's.
 */
export const TEST_DB_PREFIX = /^[a-z0-9_]+$/.test(process.env.CALLSYNC_TEST_DB_PREFIX ?? '')
  ? process.env.CALLSYNC_TEST_DB_PREFIX!
  : 'callsync_test_';
export const TEMPLATE_DATABASE = `${TEST_DB_PREFIX}template`;

/** The key test deliveries are signed with. */
export const TEST_API_KEY = 'key_test_callsync_0123456789abcdef';

/**
 * CALLSYNC_SECRET_KEY of the tests (hex): the in-process keyring (support/keys.ts) and every process a
 * test starts (support/processes.ts run() gives it unless the test sets its own) share it.
 */
export const TEST_SECRET_KEY = '7e57c0de'.repeat(8);

/** The environment a CLI process gets in tests: this database, the test Redis under `prefix`, the test key. */
export function cliEnvironment(databaseUrl: string, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: serviceUrls().redisUrl,
    QUEUE_PREFIX: prefix,
    RETELL_API_KEY: TEST_API_KEY,
    CALLSYNC_SECRET_KEY: TEST_SECRET_KEY,
    NODE_ENV: 'production',
  };
}

/** The environment a CLI command that asks Retell gets in tests: this database, the test Redis, a fake Retell at `retellBaseUrl`. */
export function retellCliEnvironment(databaseUrl: string, retellBaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: serviceUrls().redisUrl,
    RETELL_API_KEY: TEST_API_KEY,
    RETELL_API_BASE_URL: retellBaseUrl,
    NODE_ENV: 'production',
  };
}
