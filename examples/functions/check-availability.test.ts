import { sql } from 'kysely';
import { createLogger } from '@callsync/logger';
import type { CallContext } from '@callsync/domain';
import { useTestDatabase } from '../../test/support/database';
import { checkAvailability } from '../index';

/**
 * How a team tests its own function: its handler against its table (migrated, like every table, into
 * the template each test database is cloned from), with a call context as callsync gives it.
 */
const t = useTestDatabase();

const call = (companyId: string | null): CallContext =>
  ({
    call_id: 'call_1',
    company: companyId ? { id: companyId, name: 'Praxis', time_zone: 'Europe/Berlin' } : null,
  }) as CallContext;

const run = (ctx: CallContext, date: string) =>
  checkAvailability.handle(
    { call: ctx, db: t.db, logger: createLogger({ silent: true }), signal: new AbortController().signal },
    { date },
  );

describe('check_availability (example)', () => {
  beforeAll(async () => {
    // 09:00 and 10:30 Berlin on the 26th are free, 11:00 is booked; another company's slot is not ours.
    await sql`insert into example_appointment_slots (company_id, starts_at, booked) values
      (1, '2026-11-26T08:00:00Z', false), (1, '2026-11-26T09:30:00Z', false), (1, '2026-11-26T10:00:00Z', true),
      (2, '2026-11-26T08:00:00Z', false)`.execute(t.db);
  });

  it("lists the company's free slots in its own time zone", async () => {
    expect(await run(call('1'), '2026-11-26')).toBe('Free on 2026-11-26: 09:00, 10:30.');
    expect(await run(call('1'), '2026-11-27')).toBe('There is nothing free on 2026-11-27.');
  });

  it('says so when the call has no company', async () => {
    expect(await run(call(null), '2026-11-26')).toMatch(/cannot see which practice/);
  });

  it('rejects a date it cannot read', () => {
    expect(checkAvailability.args.safeParse({ date: 'Thursday' }).success).toBe(false);
  });
});
