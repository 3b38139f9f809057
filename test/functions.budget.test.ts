import type { Express } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { BUILTIN_FUNCTIONS, defineFunction, functionRegistry, invalidateTenantCache } from '@callsync/domain';
import { createLiveApp } from '@callsync/ingress';
import { createLogger } from '@callsync/logger';
import { Metrics } from '@callsync/metrics';
import { sampleCall, type RetellTranscriptEntry } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { TEST_KEYS } from './support/keys';
import { signedPost } from './support/live';
import { until } from './support/processes';

/**
 * Functions within the turn budget (issue 33): Retell's tool_call_id as the invocation's identity,
 * "args only" requests never sharing an answer, the pending message past the budget with the result
 * kept for the next call, and the hard timeout that aborts a handler and frees its slot.
 */
const t = useTestDatabase();

/** A promise the test resolves by hand: the handler's "external system" answering. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

let runs: Record<string, number> = {};
let slow = gate();
let aborted: string[] = [];
const count = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);

const book = defineFunction({
  name: 'book_slot',
  description: 'test: books and counts',
  args: z.object({ slot: z.string() }),
  async handle(_ctx, { slot }) {
    count('book_slot');
    // The point, not a wait for something: it stands for the external system's time, so attempts sent
    // at once arrive while the first still runs. Either way each gets run 1's answer; the count checks it.
    await new Promise((r) => setTimeout(r, 30));
    return `Booked ${slot} (run ${runs.book_slot}).`;
  },
});
const lookup = defineFunction({
  name: 'look_up',
  description: 'test: waits for the test to open the gate',
  args: z.object({ q: z.string() }),
  // Long enough that a loaded machine's claim and context reads fit in it: when the gate is open,
  // the answer must be the result, not the pending message.
  budgetMs: 1500,
  pendingMessage: 'Ich schaue noch nach, einen Moment.',
  timeoutMs: 20_000,
  async handle(_ctx, { q }) {
    count('look_up');
    await slow.opened;
    return `Found ${q}.`;
  },
});
const hangs = defineFunction({
  name: 'hangs',
  description: 'test: ignores its signal and never answers',
  args: z.object({ n: z.number() }),
  // Covers the claim and context reads before the handler on a loaded machine too (n=2 must answer).
  timeoutMs: 2000,
  concurrency: 1,
  async handle(ctx, { n }) {
    count('hangs');
    ctx.signal.addEventListener('abort', () => aborted.push(`hangs ${n}`));
    // Ignores the signal: stands for a handler stuck in a client without a timeout.
    if (n === 1) await new Promise(() => {});
    return `done ${n}`;
  },
});

let app: Express;
beforeEach(async () => {
  await truncateAll(t.db);
  await t.db.deleteFrom('function_calls').execute();
  invalidateTenantCache();
  runs = {};
  aborted = [];
  slow = gate();
  const company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(t.db, 'agent_weber', company.id);
  app = createLiveApp({
    db: t.db,
    keys: TEST_KEYS,
    logger: createLogger({ silent: true }),
    metrics: new Metrics('test', { processMetrics: false }),
    functions: functionRegistry([...BUILTIN_FUNCTIONS, book, lookup, hangs]),
    apiTokens: [],
    webhookKeys: [TEST_API_KEY],
    signatureToleranceMs: 5 * 60_000,
  });
});
afterEach(() => slow.open());

/** The live call Retell sends with a function request: its transcript ends with this invocation. */
function invocation(callId: string, name: string, args: Record<string, unknown>, toolCallId: string) {
  const call = sampleCall({ callId, agentId: 'agent_weber', startMs: Date.now() - 60_000 }, 'call_started');
  const said: RetellTranscriptEntry[] = [
    { role: 'agent', content: 'Praxis Dr. Weber, guten Tag.', words: [] },
    { role: 'user', content: 'Ich brauche einen Termin.', words: [] },
    { role: 'tool_call_invocation', tool_call_id: toolCallId, name, arguments: JSON.stringify(args) },
  ];
  return { name, args, call: { ...call, transcript_with_tool_calls: said } };
}

const post = (body: { name: string }) => signedPost(app, `/api/retell/functions/${body.name}`, body);

/**
 * The function_calls rows (these columns, oldest first) once no result is left to record: a result,
 * and a retry's count, are written right after the answer, not before it.
 */
const recordedRows = <C extends 'tool_call_id' | 'status' | 'replays' | 'error' | 'abandoned_at'>(columns: C[]) =>
  until('every answered invocation to be recorded', async () => {
    const rows = await t.db.selectFrom('function_calls').selectAll().orderBy('id').execute();
    if (rows.some((r) => r.status === 'running')) return undefined;
    return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
  });

describe("Retell's tool_call_id", () => {
  it('retries of one invocation run the handler once, even while the first still runs; a new invocation with the same args runs again', async () => {
    const callId = newCallId();
    const first = invocation(callId, 'book_slot', { slot: 'Thu 10:00' }, 'tool_call_a1');
    // Three attempts at once: the first runs, the others wait for its answer.
    const answers = await Promise.all([post(first), post(first), post(first)]);
    expect(answers.map((a) => [a.status, a.text])).toEqual([1, 2, 3].map(() => [200, 'Booked Thu 10:00 (run 1).']));
    // A retry after it answered gets the recorded answer.
    expect((await post(first)).text).toBe('Booked Thu 10:00 (run 1).');
    expect(runs.book_slot).toBe(1);
    // "Book it again": the agent's new invocation, same args, another tool_call_id.
    const again = await post(invocation(callId, 'book_slot', { slot: 'Thu 10:00' }, 'tool_call_a2'));
    expect([again.status, again.text]).toEqual([200, 'Booked Thu 10:00 (run 2).']);
    await until('the retries to be counted', async () => {
      const first = await t.db.selectFrom('function_calls').select('replays').orderBy('id').executeTakeFirst();
      return first?.replays === 3 ? true : undefined;
    });
    const rows = await recordedRows(['tool_call_id', 'status', 'replays']);
    expect(rows).toEqual([
      { tool_call_id: 'tool_call_a1', status: 'ok', replays: 3 },
      { tool_call_id: 'tool_call_a2', status: 'ok', replays: 0 },
    ]);
  });

  it('"args only" requests (no call object) never share an answer', async () => {
    const a = await signedPost(app, '/api/retell/functions/book_slot', { slot: 'Sat 11:00' });
    const b = await signedPost(app, '/api/retell/functions/book_slot', { slot: 'Sat 11:00' });
    expect([a.text, b.text]).toEqual(['Booked Sat 11:00 (run 1).', 'Booked Sat 11:00 (run 2).']);
    expect(runs.book_slot).toBe(2);
  });
});

describe('when Postgres refuses the result', () => {
  it('the answer stands, a retry gets it from memory without a second run, and the record is written later', async () => {
    // A trigger stands for Postgres refusing the write (a crash, a full disk) after the claim was taken.
    await sql`create function refuse_results() returns trigger language plpgsql as $$
      begin raise exception 'refusing results for this test'; end $$`.execute(t.db);
    await sql`create trigger refuse_results before update of status on function_calls
      for each row when (new.status = 'ok') execute function refuse_results()`.execute(t.db);
    try {
      const ask = invocation(newCallId(), 'book_slot', { slot: 'Mon 9:00' }, 'tool_call_e1');
      const first = await post(ask);
      expect([first.status, first.text]).toEqual([200, 'Booked Mon 9:00 (run 1).']);
      const retry = await post(ask);
      expect([retry.status, retry.text]).toEqual([200, 'Booked Mon 9:00 (run 1).']);
      expect(runs.book_slot).toBe(1);
    } finally {
      await sql`drop trigger refuse_results on function_calls`.execute(t.db);
      await sql`drop function refuse_results()`.execute(t.db);
    }
    const row = await until('the result to be recorded', async () => {
      const r = await t.db.selectFrom('function_calls').select(['status', 'result']).executeTakeFirst();
      return r?.status === 'ok' ? r : undefined;
    });
    expect(row).toEqual({ status: 'ok', result: 'Booked Mon 9:00 (run 1).' });
  });
});

describe('turn budget', () => {
  it('past its budget the agent hears the pending message; the handler finishes in the background and the next call gets its result, once', async () => {
    const callId = newCallId();
    const ask = invocation(callId, 'look_up', { q: 'Dr. Weber' }, 'tool_call_b1');
    const first = await post(ask);
    expect([first.status, first.text]).toEqual([200, 'Ich schaue noch nach, einen Moment.']);
    // Retell retries the same invocation: still running, so the pending message again, and no second run.
    expect((await post(ask)).text).toBe('Ich schaue noch nach, einen Moment.');
    const pendingRow = await t.db.selectFrom('function_calls').selectAll().executeTakeFirstOrThrow();
    expect(pendingRow).toMatchObject({ status: 'running', delivered_at: null });
    expect(pendingRow.pending_answered_at).toBeInstanceOf(Date);

    slow.open();
    await until('the background result to be recorded', async () =>
      (await t.db.selectFrom('function_calls').select('status').executeTakeFirst())?.status === 'ok' ? true : undefined,
    );
    // The agent asks again (a new invocation): it gets the result the pending message promised.
    const next = await post(invocation(callId, 'look_up', { q: 'Dr. Weber' }, 'tool_call_b2'));
    expect([next.status, next.text]).toEqual([200, 'Found Dr. Weber.']);
    expect(runs.look_up).toBe(1);
    const row = await t.db.selectFrom('function_calls').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'ok', result: 'Found Dr. Weber.' });
    expect(row.delivered_at).toBeInstanceOf(Date);
    // Handed over once: asking once more is a new lookup.
    const third = await post(invocation(callId, 'look_up', { q: 'Dr. Weber' }, 'tool_call_b3'));
    expect(third.text).toBe('Found Dr. Weber.');
    expect(runs.look_up).toBe(2);
  });

  it('get_pending_result hands over what finished after its pending message', async () => {
    const callId = newCallId();
    expect((await post(invocation(callId, 'look_up', { q: 'Rezept' }, 'tool_call_c1'))).text).toBe(
      'Ich schaue noch nach, einen Moment.',
    );
    const early = await post(invocation(callId, 'get_pending_result', {}, 'tool_call_c2'));
    expect(early.text).toBe('Still running: look_up.');
    slow.open();
    const later = await post(invocation(callId, 'get_pending_result', {}, 'tool_call_c3'));
    expect(later.text).toBe('look_up: Found Rezept.');
    // Another call's pending results are not this call's.
    const other = await post(invocation(newCallId(), 'get_pending_result', {}, 'tool_call_c4'));
    expect(other.text).toBe('There are no pending results.');
  });

  it('a handler still running at its hard timeout is aborted, its slot freed, and that is recorded', async () => {
    const callId = newCallId();
    const stuck = await post(invocation(callId, 'hangs', { n: 1 }, 'tool_call_d1'));
    expect(stuck.status).toBe(504);
    expect(aborted).toEqual(['hangs 1']);
    // Retell retries the timed-out invocation: its handler may have done the work, so it is not run again.
    const retried = await post(invocation(callId, 'hangs', { n: 1 }, 'tool_call_d1'));
    expect(retried.status).toBe(504);
    expect(runs.hangs).toBe(1);
    // Concurrency 1, and the first handler never returns: the next one still gets the slot.
    const next = await post(invocation(callId, 'hangs', { n: 2 }, 'tool_call_d2'));
    expect([next.status, next.text]).toEqual([200, 'done 2']);
    const rows = await recordedRows(['tool_call_id', 'status', 'error', 'abandoned_at']);
    expect(rows).toEqual([
      {
        tool_call_id: 'tool_call_d1',
        status: 'timeout',
        error: 'hangs took longer than its timeout of 2000 ms',
        abandoned_at: expect.any(Date),
      },
      { tool_call_id: 'tool_call_d2', status: 'ok', error: null, abandoned_at: null },
    ]);
  });
});
