import { sql } from 'kysely';
import { z } from 'zod';
import { defineFunction } from '@callsync/domain';

/*
 * An example of a team's own custom function: the seed's `check_availability`, answered from the
 * team's own table. To add one like it:
 *   1. write it with defineFunction (a name, a zod schema for the args, a timeout, handle(ctx, args));
 *   2. add it to apps/ingress/src/functions.ts;
 *   3. give its table a migration of your own, so it exists wherever callsync is migrated (this
 *      example's table comes from migrations/2026_12_06_0014_example_slots.ts);
 *   4. in Retell, point the agent's custom function at https://<ingress>/api/retell/functions/<name>
 *      (any method; over GET or DELETE the args arrive as query parameters, all strings).
 * ctx.call is the live call's context: company (with its time zone), agent, caller and history.
 */

export const checkAvailability = defineFunction({
  name: 'check_availability',
  description: 'Free appointment slots of the caller’s company on a day (args: date YYYY-MM-DD).',
  args: z.object({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-26'),
  }),
  timeoutMs: 5000,
  concurrency: 16,
  async handle({ call, db }, { date }) {
    if (!call?.company) return 'I cannot see which practice this call is for, so I cannot check the calendar.';
    const tz = call.company.time_zone;
    const { rows } = await sql<{ starts_at: Date }>`
      select starts_at from example_appointment_slots
      where company_id = ${call.company.id}::bigint and not booked
        and (starts_at at time zone ${tz})::date = ${date}::date
      order by starts_at`.execute(db);
    if (rows.length === 0) return `There is nothing free on ${date}.`;
    const times = rows.map((r) =>
      new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: tz }).format(r.starts_at),
    );
    return `Free on ${date}: ${times.join(', ')}.`;
  },
});
