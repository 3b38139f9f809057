import { sql } from 'kysely';
import { createDb } from '@callsync/db';
import { findCallSession } from '@callsync/db/sessions';
import { invalidateTenantCache } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { applyRetention } from '@callsync/worker';
import { callOf, practiceIngress, setUpPractice, SUMMARY, wholeCall } from './support/caller-data';
import { truncateAll, useTestDatabase } from './support/database';
import { dumpData, numberForms } from './support/dump';
import { TEST_KEYS } from './support/keys';
import { startPipeline, type Pipeline } from './support/pipeline';

/*
 * Once retention has passed every period, a pg_dump holds nothing of a caller: not the number (as
 * text, bare digits or hex in a bytea), not the summary, not the name from the dynamic variables,
 * not what a function was told. Event rows stay (a long EVENT_ROWS_RETENTION_DAYS here), so every
 * pruning step is what removes the data, not the rows' deletion.
 */
const t = useTestDatabase();
const CALLER = '+491701234567';
const NAME = 'Erika Beispielfrau';
const NOTE = 'Allergie gegen Penicillin';
const DAY_MS = 86_400_000;
const policy = { payloadDays: 30, eventRowDays: 1000, sessionPiiDays: 90, failedPayloadDays: 14 };
let p: Pipeline;

beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  p = await startPipeline(t.db, { ingress: practiceIngress });
  await setUpPractice(t.db);
});
afterEach(() => p.close());

describe('retention, every period passed', () => {
  it('leaves nothing of the caller in a pg_dump, wherever callsync kept it', async () => {
    const first = await wholeCall(p, { from: CALLER, name: NAME, note: NOTE });
    // A returning caller: the inbound answer recalls the first call's summary; it is stored too.
    const second = await wholeCall(p, { from: CALLER, name: NAME, note: NOTE });
    // An event that failed for good keeps its payload for replay, until its own period.
    const broken = { ...callOf(second.call_id, CALLER, NAME, 'call_analyzed'), end_timestamp: 'later' };
    const failed = await p.deliver(JSON.stringify({ event: 'call_ended', call: broken }));
    expect((await p.settled([failed.body.id]))[0]!.status).toBe('failed');
    // A call that never ended.
    const live = await p.deliver(
      JSON.stringify({ event: 'call_started', call: callOf('call_never_ended', CALLER, NAME, 'call_started') }),
    );
    await p.settled([live.body.id]);

    const before = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE, SUMMARY]) expect(before).toContain(s);
    expect(before).toContain('caller_last_summary');

    // 100 days on: every period but the event rows' has passed.
    const later = new Date(Date.now() + 100 * DAY_MS);
    const counts = await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy, later);
    expect(counts).toMatchObject({
      payloadsPruned: expect.any(Number),
      failedPayloadsPruned: 1,
      sessionsPiiPruned: 3,
      functionCallsPruned: 2,
      transferEventsPruned: 2,
      deliveriesExpired: 2,
      eventRowsDeleted: 0,
    });

    const after = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE, SUMMARY]) expect(after).not.toContain(s);
    // The records stay, for the reports: sessions with their outcome, and a hash to count returning callers.
    expect(await findCallSession(t.db, first.call_id)).toMatchObject({
      call_status: 'ended',
      call_successful: true,
      from_number: null,
      caller_hash: expect.stringMatching(/^hmac:v1:/),
    });
    const { rows } = await sql<{ n: string }>`select count(*) as n from webhook_events`.execute(t.db);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(10);
    // A second run finds nothing more to do.
    const again = await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy, later);
    expect(Object.values(again).every((n) => n === 0)).toBe(true);
  });

  it('runs every step even when one fails, records the failure, and fails the run', async () => {
    const call = await wholeCall(p, { from: CALLER, name: NAME, note: NOTE });
    // Retention's own pool gives up on a lock after 300 ms, as a production one would after its timeout.
    const retentionDb = createDb({ url: t.url, poolSize: 2, lockTimeoutMs: 300 });
    try {
      const outcome = await t.db.connection().execute(async (conn) => {
        // One step cannot run: another session holds its table.
        await sql`begin`.execute(conn);
        await sql`lock table function_calls in access exclusive mode`.execute(conn);
        try {
          return await applyRetention(
            retentionDb,
            TEST_KEYS,
            createLogger({ silent: true }),
            policy,
            new Date(Date.now() + 100 * DAY_MS),
          ).then(
            () => 'passed',
            (err: Error) => err.message,
          );
        } finally {
          await sql`rollback`.execute(conn);
        }
      });
      expect(outcome).toMatch(/^retention: 1 step\(s\) failed: function calls: /);
    } finally {
      await retentionDb.destroy();
    }
    const [run] = await t.db.selectFrom('retention_runs').selectAll().orderBy('id', 'desc').limit(1).execute();
    expect(run).toMatchObject({ error: expect.stringMatching(/^function calls: /), sessions_pii_pruned: 1 });
    // The steps after the failed one ran too.
    expect(run!.transfer_events_pruned).toBe(1);
    expect(await findCallSession(t.db, call.call_id)).toMatchObject({ from_number: null });
  });
});
