import { sql } from 'kysely';
import { createDb, type Db } from '@callsync/db';
import { createTestDatabase, type TestDatabase } from './support/database';

/** The worker commits without waiting for the WAL flush; everything else waits. */
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** Resolves for each caller once `n` callers are waiting: holds n pooled connections at once. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return () => {
    arrived += 1;
    if (arrived === n) open();
    return opened;
  };
}

async function synchronousCommit(
  asyncCommit: boolean | undefined,
): Promise<{ inTransaction: string[]; outside: string[] }> {
  const db = createDb({ url: t.url, poolSize: 3, asyncCommit });
  const show = async (q: Db) =>
    (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(q)).rows[0]!.synchronous_commit;
  try {
    // Three connections held at once, so every pooled connection is checked, not just the first.
    const allInTransaction = barrier(3);
    const inTransaction = await Promise.all(
      [1, 2, 3].map(() =>
        db.transaction().execute(async (trx) => {
          await allInTransaction();
          return show(trx);
        }),
      ),
    );
    // The same connections, outside a transaction: the setting did not stay on the session.
    const allConnected = barrier(3);
    const outside = await Promise.all(
      [1, 2, 3].map(async () =>
        db.connection().execute(async (c) => {
          await allConnected();
          return show(c);
        }),
      ),
    );
    return { inTransaction, outside };
  } finally {
    await db.destroy();
  }
}

describe('createDb asyncCommit', () => {
  it('turns synchronous_commit off for each transaction only (SET LOCAL), never for the session', async () => {
    expect(await synchronousCommit(true)).toEqual({
      inTransaction: ['off', 'off', 'off'],
      outside: ['on', 'on', 'on'],
    });
  });
  it('leaves it on by default', async () => {
    expect(await synchronousCommit(undefined)).toEqual({
      inTransaction: ['on', 'on', 'on'],
      outside: ['on', 'on', 'on'],
    });
  });
});

describe('createDb timeouts', () => {
  it('gives up waiting for a lock after lockTimeoutMs (55P03), instead of waiting without limit', async () => {
    const holder = createDb({ url: t.url, poolSize: 1 });
    const waiter = createDb({ url: t.url, poolSize: 1, lockTimeoutMs: 100 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const held = holder.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(77)`.execute(trx);
      locked();
      await released;
    });
    try {
      await isLocked;
      await expect(
        waiter.transaction().execute((trx) => sql`select pg_advisory_xact_lock(77)`.execute(trx)),
      ).rejects.toMatchObject({ code: '55P03' });
    } finally {
      release();
      await held;
      await holder.destroy();
      await waiter.destroy();
    }
  });

  it('ends a session left idle in a transaction after idleInTransactionTimeoutMs, releasing its locks', async () => {
    const frozen = createDb({ url: t.url, poolSize: 1, idleInTransactionTimeoutMs: 200 });
    const other = createDb({ url: t.url, poolSize: 1, lockTimeoutMs: 5_000 });
    try {
      let stuck!: () => void;
      const stop = new Promise<void>((r) => (stuck = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const tx = frozen.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(78)`.execute(trx);
        locked();
        // A process that froze here holds the lock until Postgres ends its session.
        await stop;
        await sql`select 1`.execute(trx);
      });
      const settled = tx.then(
        () => 'committed',
        (err: Error) => err.message,
      );
      await isLocked;
      // Taken once Postgres ended the frozen session (after 200 ms idle); without the timeout it would
      // wait out other's lock_timeout and fail with 55P03.
      await other.transaction().execute((trx) => sql`select pg_advisory_xact_lock(78)`.execute(trx));
      stuck();
      expect(await settled).toMatch(/idle-in-transaction timeout|terminat|Connection/i);
    } finally {
      await frozen.destroy();
      await other.destroy();
    }
  });
});
