import { findWebhookEvents } from '@callsync/db/events';
import { findCallSession } from '@callsync/db/sessions';
import { invalidateTenantCache } from '@callsync/domain';
import { FakeRetell } from '@callsync/fake-retell';
import { callOf, practiceIngress, setUpPractice, wholeCall as applyWholeCall } from './support/caller-data';
import { truncateAll, useTestDatabase } from './support/database';
import { dumpData, numberForms } from './support/dump';
import { retellCliEnvironment, TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * make forget (GDPR Art. 17) against real services: afterwards a pg_dump of the database holds
 * nothing of the caller, Retell was asked to delete the calls, a late delivery does not bring the
 * data back, and a second run changes nothing. Another caller's data is untouched.
 */
const t = useTestDatabase();
const CALLER = '+491701234567';
const OTHER = '+491609876543';
const NAME = 'Erika Beispielfrau';
const NOTE = 'Allergie gegen Penicillin';
let p: Pipeline;
let fake: FakeRetell;
let fakeUrl: string;

beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  fake = new FakeRetell({ apiKeys: [TEST_API_KEY] });
  fakeUrl = await fake.start();
  p = await startPipeline(t.db, { ingress: practiceIngress });
  await setUpPractice(t.db);
});
afterEach(async () => {
  await p.close();
  await fake.stop();
});

/** A whole call of `from`, applied; Retell (the fake) knows it too. */
async function wholeCall(from: string, name: string, note = NOTE): Promise<string> {
  const analyzed = await applyWholeCall(p, { from, name, note });
  fake.setCall(analyzed);
  return analyzed.call_id;
}

function forgetCli(...args: string[]) {
  return run(CLI, retellCliEnvironment(t.url, fakeUrl), ['forget', ...args]);
}

describe('make forget', () => {
  it('erases one caller everywhere, here and at Retell: a pg_dump holds nothing of them, and nothing comes back', async () => {
    const erased = await wholeCall(CALLER, NAME);
    const kept = await wholeCall(OTHER, 'Otto Normalverbraucher', 'keine Allergien');
    const before = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE]) expect(before).toContain(s);

    const cli = forgetCli('--caller', CALLER);
    expect({ code: await cli.exited, output: cli.output() }).toMatchObject({ code: 0 });
    expect(cli.output()).toContain(`calls: ${erased}`);
    expect(cli.output()).toMatch(/retell_call_sessions +1/);
    expect(cli.output()).toContain('Retell (DELETE /v2/delete-call): deleted 1, already gone 0, failed 0');
    expect(fake.calls.has(erased)).toBe(false);
    expect(fake.calls.has(kept)).toBe(true);

    const after = await dumpData(t.url);
    for (const s of [...numberForms(CALLER), NAME, NOTE]) expect(after).not.toContain(s);
    // The other caller is untouched.
    for (const s of [...numberForms(OTHER), 'Otto Normalverbraucher', 'keine Allergien']) expect(after).toContain(s);
    // Rows stay, for reports and dedupe: the session and every event, with their statuses.
    expect(await findCallSession(t.db, erased)).toMatchObject({
      call_status: 'ended',
      from_number: null,
      call_summary: null,
      transcript: null,
      erased_at: expect.any(Date),
    });
    const events = await findWebhookEvents(t.db, erased);
    expect(events.map((e) => e.event_type)).toEqual([
      'call_inbound',
      'call_started',
      'transfer_started',
      'call_analyzed',
    ]);
    expect(events.every((e) => e.raw_body === null && JSON.stringify(e.payload) === '{}')).toBe(true);
    // The held delivery for the team's CRM is cancelled, not sent later.
    const deliveries = await t.db.selectFrom('forward_deliveries').selectAll().where('subject', '=', erased).execute();
    expect(deliveries.map((d) => [d.status, d.payload])).toEqual([['cancelled', null]]);
    const erasures = await t.db.selectFrom('erasures').selectAll().execute();
    expect(erasures).toEqual([expect.objectContaining({ scope: 'caller', retell_deleted: 1, retell_failed: 0 })]);
    expect(JSON.stringify(erasures)).not.toContain(CALLER.slice(1));

    // Retell retries a delivery: only counted, its row stays empty.
    const analyzed = callOf(erased, CALLER, NAME, 'call_analyzed');
    const retry = await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }));
    expect(retry.body.duplicate).toBe(true);
    // Retell re-runs the analysis (a new event): stored, not applied, its payload removed at once.
    analyzed.call_analysis = { ...analyzed.call_analysis, call_summary: `${NAME}: re-run` };
    const late = await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }));
    expect(late.body.duplicate).toBe(false);
    const [row] = await p.settled([late.body.id]);
    expect(row).toMatchObject({ status: 'skipped', error: expect.stringMatching(/^erased/), raw_body: null });
    expect(await findCallSession(t.db, erased)).toMatchObject({ from_number: null, call_summary: null });
    for (const s of [...numberForms(CALLER), NAME]) expect(await dumpData(t.url)).not.toContain(s);

    // Again: nothing left to find or remove.
    const again = forgetCli('--caller', CALLER, '--local-only');
    expect(await again.exited).toBe(0);
    expect(again.output()).toContain('0 call(s), 0 chat(s)');
  });

  it('--call-id erases that call only; --local-only leaves Retell alone', async () => {
    const first = await wholeCall(CALLER, NAME);
    const second = await wholeCall(CALLER, NAME);
    const cli = forgetCli('--call-id', first, '--local-only');
    expect({ code: await cli.exited, output: cli.output() }).toMatchObject({ code: 0 });
    expect(cli.output()).toContain('Retell: not asked (--local-only)');
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(await findCallSession(t.db, first)).toMatchObject({ from_number: null, erased_at: expect.any(Date) });
    expect(await findCallSession(t.db, second)).toMatchObject({ from_number: CALLER, erased_at: null });
  });

  it('refuses to guess: a number that is not E.164, or neither --caller nor --call-id', async () => {
    const bad = forgetCli('--caller', '0170 1234567');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--caller must be an E.164 number');
    const none = forgetCli();
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('say whom to forget');
  });
});
