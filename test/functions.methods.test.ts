import { sql } from 'kysely';
import request from 'supertest';
import { sign } from 'retell-sdk';
import { z } from 'zod';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { BUILTIN_FUNCTIONS, defineFunction, functionRegistry, invalidateTenantCache } from '@callsync/domain';
import { ingressFunctions } from '@callsync/ingress';
import { sampleCall } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';

/** Custom functions over every method Retell allows, a body bound to its URL, and the shipped example. */
const t = useTestDatabase();
let runs = 0;
const booking = defineFunction({
  name: 'book_slot',
  description: 'test: books and counts',
  args: z.object({ slot: z.string() }),
  async handle(_ctx, { slot }) {
    runs += 1;
    return `Booked ${slot}.`;
  },
});
const cancelling = defineFunction({
  name: 'cancel_slot',
  description: 'test: cancels and counts',
  args: z.object({ slot: z.string() }),
  async handle(_ctx, { slot }) {
    runs += 1;
    return `Cancelled ${slot}.`;
  },
});

let p: Pipeline | undefined;
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  runs = 0;
});
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const start = async (functions = functionRegistry([...BUILTIN_FUNCTIONS, booking, cancelling])) =>
  (p = await startPipeline(t.db, { worker: false, ingress: { functions } }));

const liveCall = (callId: string, agentId = 'agent_weber') =>
  sampleCall({ callId, agentId, startMs: Date.UTC(2026, 10, 24, 9) }, 'call_started');

type Method = 'post' | 'put' | 'patch';

/** A body sent with `method`, signed with retell-sdk as Retell signs it. */
async function send(method: Method, path: string, payload: unknown) {
  const text = JSON.stringify(payload);
  const app = request(p!.app);
  return app[method](path)
    .set('content-type', 'application/json')
    .set('x-retell-signature', await sign(text, TEST_API_KEY))
    .send(text);
}

/** A GET or DELETE as Retell sends it: args in the query string, no body, signed over the empty body. */
async function bodyless(method: 'get' | 'delete', pathWithQuery: string, signature?: string) {
  const app = request(p!.app);
  return app[method](pathWithQuery).set('x-retell-signature', signature ?? (await sign('', TEST_API_KEY)));
}

/** The function_calls rows once every answered invocation is recorded (a result follows its answer). */
const rows = () =>
  until('every answered invocation to be recorded', async () => {
    const r = await t.db.selectFrom('function_calls').selectAll().orderBy('id').execute();
    return r.some((row) => row.status === 'running') ? undefined : r;
  });

describe('every method Retell allows for a custom function', () => {
  it('a GET takes its args from the query string, verified over the empty body', async () => {
    await start();
    const res = await bodyless('get', '/api/retell/functions/book_slot?slot=Thu%2010%3A00');
    expect([res.status, res.text]).toEqual([200, 'Booked Thu 10:00.']);
    expect(runs).toBe(1);
    expect(await rows()).toEqual([
      expect.objectContaining({
        name: 'book_slot',
        call_id: null,
        status: 'ok',
        args: { slot: 'Thu 10:00' },
        result: 'Booked Thu 10:00.',
      }),
    ]);

    // The signature still counts: missing, or made over another body than the empty one, runs nothing.
    const unsigned = await request(p!.app).get('/api/retell/functions/book_slot?slot=Fri%209%3A00');
    expect(unsigned.status).toBe(401);
    const otherBody = await bodyless(
      'get',
      '/api/retell/functions/book_slot?slot=Fri%209%3A00',
      await sign('{"slot":"Fri 9:00"}', TEST_API_KEY),
    );
    expect([otherBody.status, otherBody.body]).toEqual([401, { error: 'X-Retell-Signature does not match the body' }]);
    // HEAD is no method Retell uses: Express would otherwise run the GET handler for it.
    const head = await request(p!.app)
      .head('/api/retell/functions/book_slot?slot=Fri%209%3A00')
      .set('x-retell-signature', await sign('', TEST_API_KEY));
    expect(head.status).toBe(405);
    expect(runs).toBe(1);
  });

  it('PUT and PATCH carry the body as POST does; DELETE carries the query as GET does', async () => {
    await start();
    const put = await send('put', '/api/retell/functions/book_slot', {
      name: 'book_slot',
      args: { slot: 'Mon 8:00' },
      call: liveCall(newCallId()),
    });
    expect([put.status, put.text]).toEqual([200, 'Booked Mon 8:00.']);
    const patch = await send('patch', '/api/retell/functions/book_slot', { slot: 'Tue 8:00' }); // "args only"
    expect([patch.status, patch.text]).toEqual([200, 'Booked Tue 8:00.']);
    const del = await bodyless('delete', '/api/retell/functions/cancel_slot?slot=Mon%208%3A00');
    expect([del.status, del.text]).toEqual([200, 'Cancelled Mon 8:00.']);
    expect(runs).toBe(3);
    expect((await rows()).map((r) => [r.name, r.status, r.args])).toEqual([
      ['book_slot', 'ok', { slot: 'Mon 8:00' }],
      ['book_slot', 'ok', { slot: 'Tue 8:00' }],
      ['cancel_slot', 'ok', { slot: 'Mon 8:00' }],
    ]);
  });
});

describe('a body is bound to its URL', () => {
  it("a body naming another function than the URL's is refused, naming both, and runs nothing", async () => {
    await start();
    // Signed for cancel_slot, sent to book_slot's URL.
    const res = await send('post', '/api/retell/functions/book_slot', {
      name: 'cancel_slot',
      args: { slot: 'Thu 10:00' },
      call: liveCall(newCallId()),
    });
    expect([res.status, res.body]).toEqual([
      400,
      { error: 'function name in the body ("cancel_slot") does not match the URL ("book_slot")' },
    ]);
    expect(runs).toBe(0);
    expect(await rows()).toEqual([]);

    // "Args only" bodies carry no function name: an arg called `name` is just an arg.
    const named = defineFunction({
      name: 'greet',
      description: 'test: an arg called name',
      args: z.object({ name: z.string() }),
      async handle(_ctx, { name }) {
        return `Hello ${name}.`;
      },
    });
    await p!.close();
    await start(functionRegistry([named]));
    const argsOnly = await send('post', '/api/retell/functions/greet', { name: 'Anna' });
    expect([argsOnly.status, argsOnly.text]).toEqual([200, 'Hello Anna.']);
  });
});

describe('the shipped example on a freshly migrated database', () => {
  it('check_availability, registered in production, answers 200 through the ingress, not 500', async () => {
    // Nothing here creates example_appointment_slots: the migrations must have.
    const company = await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin');
    await mapAgent(t.db, 'agent_weber', company.id);
    await start(ingressFunctions());
    const fn = (date: string) => ({ name: 'check_availability', args: { date }, call: liveCall(newCallId()) });

    const empty = await send('post', '/api/retell/functions/check_availability', fn('2026-11-26'));
    expect([empty.status, empty.text]).toEqual([200, 'There is nothing free on 2026-11-26.']);

    await sql`insert into example_appointment_slots (company_id, starts_at) values (${company.id}::bigint, '2026-11-27T08:00:00Z')`.execute(
      t.db,
    );
    const free = await send('post', '/api/retell/functions/check_availability', fn('2026-11-27'));
    expect([free.status, free.text]).toEqual([200, 'Free on 2026-11-27: 09:00.']);
  });
});
