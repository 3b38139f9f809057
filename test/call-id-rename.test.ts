import { sql } from 'kysely';
import { findWebhookEvents } from '@callsync/db/events';
import { completeCallIdBackfill } from '@callsync/testkit';
import { useTestDatabase, truncateAll } from './support/database';

/**
 * webhook_events.event_id becomes call_id (expand step, migration 0006): during a rolling deploy old
 * processes write event_id and new ones call_id; both must end up with the same row.
 */
const t = useTestDatabase();
beforeEach(() => truncateAll(t.db));

async function columns(dedupeKey: string) {
  const { rows } = await sql<{ event_id: string; call_id: string }>`
    select event_id, call_id from webhook_events where dedupe_key = ${dedupeKey}`.execute(t.db);
  return rows[0];
}

describe('event_id -> call_id, expand step', () => {
  it('keeps both columns equal whichever one a process writes', async () => {
    // A process of the previous release: event_id only.
    await sql`insert into webhook_events (event_type, event_id, dedupe_key, payload) values ('call_started', 'call_old', 'call_started:call_old', '{}')`.execute(
      t.db,
    );
    // This release: call_id only.
    await sql`insert into webhook_events (event_type, call_id, dedupe_key, payload) values ('call_started', 'call_new', 'call_started:call_new', '{}')`.execute(
      t.db,
    );
    expect(await columns('call_started:call_old')).toEqual({ event_id: 'call_old', call_id: 'call_old' });
    expect(await columns('call_started:call_new')).toEqual({ event_id: 'call_new', call_id: 'call_new' });
    // Either way, this release finds the row by call id.
    expect((await findWebhookEvents(t.db, 'call_old')).map((r) => r.dedupe_key)).toEqual(['call_started:call_old']);
  });

  it('backfills rows stored before the column existed, in batches, and builds a valid index on call_id', async () => {
    // Rows as migration 0005 left them: no call_id.
    await sql`alter table webhook_events disable trigger webhook_events_call_id_sync`.execute(t.db);
    try {
      for (let i = 0; i < 12; i++) {
        await sql`insert into webhook_events (event_type, event_id, dedupe_key, payload) values ('call_ended', ${`call_${i}`}, ${`call_ended:call_${i}`}, '{}')`.execute(
          t.db,
        );
      }
    } finally {
      await sql`alter table webhook_events enable trigger webhook_events_call_id_sync`.execute(t.db);
    }
    const { rows: before } = await sql<{
      n: string;
    }>`select count(*) as n from webhook_events where call_id is null`.execute(t.db);
    expect(Number(before[0]!.n)).toBe(12);

    expect(await completeCallIdBackfill(t.db, 5)).toBe(12);
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from webhook_events where call_id is distinct from event_id`.execute(t.db);
    expect(Number(rows[0]!.n)).toBe(0);
    const { rows: index } = await sql<{ valid: boolean }>`
      select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = 'webhook_events_call_id_idx'`.execute(t.db);
    expect(index).toEqual([{ valid: true }]);
    expect(await completeCallIdBackfill(t.db, 5)).toBe(0);
  });
});
