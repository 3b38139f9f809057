import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import { type Db } from '@callsync/db';
import { addCompany } from '@callsync/db/tenants';
import { searchCalls, searchEvents } from '@callsync/db/ops';
import {
  callSearchQuery,
  callsPerDayQuery,
  eventSearchQuery,
  eventsPerMinuteQuery,
  reportQuery,
} from '@callsync/testkit';
import { useTestDatabase } from './support/database';

/**
 * The console's queries on a million events and a million calls: each list and chart is answered
 * through an index (EXPLAIN shows no sequential scan of the big tables), and keyset pages walk the
 * rows in order without repeats.
 */
const t = useTestDatabase();
const ROWS = 1_000_000;
let companyId: string;

beforeAll(async () => {
  companyId = (await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin')).id;
  // A million events over the last 30 days; one in 200 failed.
  await sql`insert into webhook_events (event_type, call_id, dedupe_key, payload, status, created_at, processed_at)
    select (array['call_started','call_ended','call_analyzed'])[1 + i % 3], 'call_' || (i / 3), 'k' || i, '{}'::jsonb,
      case when i % 200 = 0 then 'failed' else 'processed' end,
      now() - make_interval(secs => i * 2.6), now() - make_interval(secs => i * 2.6)
    from generate_series(1, ${ROWS}) i`.execute(t.db);
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, direction, from_number, to_number, call_successful)
    select 'call_' || i, case when i % 50 = 0 then 'in_progress' else 'ended' end, now() - make_interval(secs => i * 2.6),
      case when i % 10 = 0 then ${companyId}::bigint end, 'inbound', '+4930' || lpad((i % 10000000)::text, 8, '0'),
      '+493033081738', i % 3 <> 0
    from generate_series(1, ${ROWS}) i`.execute(t.db);
  await sql`analyze webhook_events`.execute(t.db);
  await sql`analyze retell_call_sessions`.execute(t.db);
}, 600_000);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

async function plan(db: Db, compiled: CompiledQuery): Promise<PlanNode[]> {
  const r = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]),
  );
  return nodes(r.rows[0]!['QUERY PLAN'][0].Plan);
}

const raw = (q: RawBuilder<unknown>) => q.compile(t.db);

/** No sequential scan of a big table, and one of its indexes used (its name starts with the table's). */
function expectIndexed(plan: PlanNode[], table: string): void {
  const onTable = plan.filter((n) => n['Relation Name'] === table);
  expect(onTable.map((n) => n['Node Type'])).not.toContain('Seq Scan');
  expect(plan.filter((n) => n['Index Name']?.startsWith(table)).map((n) => n['Node Type'])).toEqual(
    expect.arrayContaining([expect.stringMatching(/Index/)]),
  );
}

describe('console queries on a million rows', () => {
  const day = () => new Date(Date.now() - 24 * 3600_000);

  it('calls: newest first, by company, by the caller’s last digits, by id, page after page: through indexes', async () => {
    for (const search of [
      { limit: 50 },
      { limit: 50, companyId: '1' },
      { limit: 50, callerDigits: '1234' },
      { limit: 50, id: 'call_777' },
      { limit: 50, status: 'in_progress' },
      { limit: 50, after: { at: new Date(Date.now() - 3 * 86400_000), id: '99999' } },
    ])
      expectIndexed(await plan(t.db, callSearchQuery(t.db, search).compile()), 'retell_call_sessions');
    // The caller's digits find the calls they name.
    const byDigits = await searchCalls(t.db, { limit: 50, callerDigits: '01234' });
    expect(byDigits.length).toBeGreaterThan(0);
    expect(byDigits.every((c) => c.from_number!.endsWith('01234'))).toBe(true);
  });

  it('events: by status, type, company and time, page after page: through indexes', async () => {
    for (const search of [
      { limit: 50 },
      { limit: 50, statuses: ['failed' as const] },
      { limit: 50, statuses: ['processed' as const] },
      { limit: 50, statuses: ['pending' as const] },
      { limit: 50, statuses: ['skipped' as const] },
      { limit: 50, statuses: ['failed' as const], after: { at: day(), id: '500000' } },
      { limit: 50, statuses: ['failed' as const], eventTypes: ['call_ended'], from: day() },
      { limit: 50, companyId: '1', statuses: ['failed' as const] },
    ])
      expectIndexed(await plan(t.db, eventSearchQuery(t.db, search).compile()), 'webhook_events');
  });

  it('keyset pages of failed events follow each other without gaps or repeats', async () => {
    const first = await searchEvents(t.db, { limit: 100, statuses: ['failed'] });
    const last = first.at(-1)!;
    const second = await searchEvents(t.db, {
      limit: 100,
      statuses: ['failed'],
      after: { at: last.created_at, id: last.id },
    });
    const both = await searchEvents(t.db, { limit: 200, statuses: ['failed'] });
    expect([...first, ...second].map((e) => e.id)).toEqual(both.map((e) => e.id));
    expect(both.every((e) => e.status === 'failed')).toBe(true);
  });

  it('the processing-rate report, as shipped in sql/reports/, reads an index', async () => {
    expectIndexed(await plan(t.db, reportQuery('processing-rate.sql', 'window', '24 hours')), 'webhook_events');
  });

  it('charts: events per minute over 24 h and calls per day by outcome use indexes', async () => {
    expectIndexed(await plan(t.db, raw(eventsPerMinuteQuery(day()))), 'webhook_events');
    expectIndexed(
      await plan(t.db, raw(callsPerDayQuery(new Date(Date.now() - 7 * 86400_000)))),
      'retell_call_sessions',
    );
  });
});
