import { sql } from 'kysely';
import { processingRate, staleSessions } from '@callsync/db/ops';
import { useTestDatabase } from './support/database';

const t = useTestDatabase();

async function insertEvent(eventType: string, status: string, ageMinutes: number, provider = 'retell'): Promise<void> {
  await sql`insert into webhook_events (provider, event_type, event_id, dedupe_key, payload, status, created_at)
            values (${provider}, ${eventType}, 'c', ${`${eventType}:${Math.random()}`}, '{}', ${status}, now() - make_interval(mins => ${ageMinutes}))`.execute(
    t.db,
  );
}

describe("the replaced system's monitoring SQL, in Postgres syntax", () => {
  it('processing rate per event type counts total, processed, pending, failed and success % in the window', async () => {
    for (let i = 0; i < 3; i++) await insertEvent('call_started', 'processed', 10);
    await insertEvent('call_started', 'pending', 10);
    await insertEvent('call_ended', 'processed', 30);
    await insertEvent('call_ended', 'failed', 30);
    await insertEvent('call_ended', 'skipped', 30);
    await insertEvent('call_analyzed', 'processed', 60 * 25); // outside the 24 h window
    await insertEvent('call_started', 'pending', 5, 'other'); // another provider
    // sql/reports/processing-rate.sql, as shipped (and as `make stats` runs it).
    expect(await processingRate(t.db, '24 hours')).toEqual([
      { event_type: 'call_ended', total: 3, processed: 1, pending: 0, failed: 1, success_rate: 33.33 },
      { event_type: 'call_started', total: 4, processed: 3, pending: 1, failed: 0, success_rate: 75 },
    ]);
  });

  it('stale sessions lists in_progress calls older than the threshold, newest first', async () => {
    await sql`insert into retell_call_sessions (call_id, call_status, started_at) values
      ('stale_old', 'in_progress', now() - interval '40 minutes'),
      ('stale_new', 'in_progress', now() - interval '15 minutes'),
      ('fresh', 'in_progress', now() - interval '2 minutes'),
      ('done', 'ended', now() - interval '50 minutes')`.execute(t.db);
    const rows = await staleSessions(t.db, 10);
    expect(rows.map((r) => [r.call_id, r.minutes_stuck])).toEqual([
      ['stale_new', 15],
      ['stale_old', 40],
    ]);
  });
});
