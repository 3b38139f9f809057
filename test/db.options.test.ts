import { sql } from 'kysely';
import { createDb } from '@callsync/db';
import { createTestDatabase, type TestDatabase } from './support/database';

/** The worker commits without waiting for the WAL flush; everything else waits. */
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

async function synchronousCommit(asyncCommit: boolean | undefined): Promise<string[]> {
  const db = createDb({ url: t.url, poolSize: 3, asyncCommit });
  try {
    // Several connections at once, so every pooled connection is checked, not just the first.
    const rows = await Promise.all([1, 2, 3].map(() => db.transaction().execute(async (trx) => {
      await sql`select pg_sleep(0.05)`.execute(trx);
      return (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(trx)).rows[0]!.synchronous_commit;
    })));
    return rows;
  } finally {
    await db.destroy();
  }
}

describe('createDb asyncCommit', () => {
  it('turns synchronous_commit off on every connection when asked', async () => {
    expect(await synchronousCommit(true)).toEqual(['off', 'off', 'off']);
  });
  it('leaves it on by default', async () => {
    expect(await synchronousCommit(undefined)).toEqual(['on', 'on', 'on']);
  });
});
