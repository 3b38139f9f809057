import { sql } from 'kysely';
import { createDb, type Db } from '@callsync/db';
import { claimWebhookEvents, recordDeliveries, type Delivery } from '@callsync/db/events';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { until } from './support/processes';

/**
 * The ingress counts redeliveries by dedupe key, the worker claims rows by id: the same rows, two
 * orders. Run both on the same rows at once, forced to interleave; neither may deadlock.
 */
const t = useTestDatabase();
const pools: Db[] = [];
afterAll(() => Promise.all(pools.map((p) => p.destroy())));

function pool(name: string): Db {
  const db = createDb({ url: t.url, poolSize: 1, applicationName: name });
  pools.push(db);
  return db;
}

async function waitingOnLock(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from pg_stat_activity where application_name = ${name} and wait_event_type = 'Lock'`.execute(
    db,
  );
  return Number(rows[0]!.n) > 0;
}

/** Whether the session named `waiter` waits for a lock the session named `holder` holds. */
async function blockedBy(db: Db, waiter: string, holder: string): Promise<boolean> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from pg_stat_activity w
    join pg_stat_activity h on h.pid = any(pg_blocking_pids(w.pid))
    where w.application_name = ${waiter} and h.application_name = ${holder}`.execute(db);
  return Number(rows[0]!.n) > 0;
}

describe('ingress and worker on the same rows at once', () => {
  it('do not deadlock: the claim skips rows the ingress holds, and the redeliveries are all counted', async () => {
    // Dedupe keys sort the opposite way to the rows' ids: the ingress locks them from the highest id down.
    const ds: Delivery[] = Array.from({ length: 60 }, (_, i) => {
      const callId = newCallId('lock');
      const raw = body('call_started', { callId });
      return {
        eventType: 'call_started',
        callId,
        dedupeKey: `lock:${String(999 - i).padStart(3, '0')}`,
        payloadJson: raw,
        rawBody: Buffer.from(raw),
        signature: null,
        source: 'webhook',
      };
    });
    // Stored one by one (as they arrived), so ids ascend while keys descend.
    const ids: string[] = [];
    for (const d of ds) ids.push((await recordDeliveries(t.db, [d]))[0]!.id);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
    const middle = ids[29]!;
    const [blocker, ingress, worker] = [pool('lock-blocker'), pool('lock-ingress'), pool('lock-worker')];

    // A third transaction holds the middle row, so the two statements below stop half-way: the
    // ingress holding the upper half of the rows, the worker (before the fix) the lower half.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    const blocking = blocker.transaction().execute(async (trx) => {
      await sql`select id from webhook_events where id = ${middle} for update`.execute(trx);
      held();
      await released;
    });
    await isHeld;

    const redeliver = recordDeliveries(ingress, [...ds].reverse()).then(
      (r) => ({ ok: true as const, r }),
      (err: { code?: string; message: string }) => ({ ok: false as const, err }),
    );
    await until('the ingress to wait on the middle row', async () =>
      (await waitingOnLock(t.db, 'lock-ingress')) ? true : undefined,
    );
    let claimedWhileHeld = false;
    // The claim keeps its rows until the ingress, let go, has come down to them: both hold rows the
    // other wants, the moment a deadlock would happen.
    let finishClaim!: () => void;
    const claimMayFinish = new Promise<void>((r) => (finishClaim = r));
    const claim = worker
      .transaction()
      .execute(async (trx) => {
        const claimed = await claimWebhookEvents(trx, ids, ['call_started']);
        claimedWhileHeld = true;
        await claimMayFinish;
        return claimed.map((r) => r.id);
      })
      .then(
        (r) => ({ ok: true as const, r }),
        (err: { code?: string; message: string }) => ({ ok: false as const, err }),
      );
    // Let the middle row go once the claim has run past it, or (the bug) waits on it.
    await until('the worker to claim, or to wait on the middle row', async () =>
      claimedWhileHeld || (await waitingOnLock(t.db, 'lock-worker')) ? true : undefined,
    );
    release();
    await blocking;
    if (claimedWhileHeld)
      await until('the ingress to wait on a row the claim holds', async () =>
        (await blockedBy(t.db, 'lock-ingress', 'lock-worker')) ? true : undefined,
      );
    finishClaim();

    const [counted, claimed] = await Promise.all([redeliver, claim]);
    expect({ counted: counted.ok ? 'ok' : counted.err.code, claimed: claimed.ok ? 'ok' : claimed.err.code }).toEqual({
      counted: 'ok',
      claimed: 'ok',
    });
    // The worker took the rows nobody held (below the middle) and left the rest for a later try.
    expect(claimed.ok && claimed.r).toEqual(ids.slice(0, 29));
    const rows = await t.db
      .selectFrom('webhook_events')
      .select(['id', 'delivery_count', 'status'])
      .orderBy('id')
      .execute();
    expect(rows.every((r) => r.delivery_count === 2)).toBe(true);
    expect(rows.filter((r) => r.status === 'processed').map((r) => r.id)).toEqual(ids.slice(0, 29));
  });
});
