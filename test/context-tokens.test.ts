import request from 'supertest';
import { type Db } from '@callsync/db';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { defaultHandlers, invalidateTenantCache, processWebhookEventsBatch, tokenSha256 } from '@callsync/domain';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * Context API tokens per company (make tokens): a company's token reads its own calls and gets 404
 * for another company's, exactly as for a call callsync never heard of; CALLSYNC_API_TOKENS and
 * `add --all` tokens read every company's. Only a hash of a token is stored.
 */
const t = useTestDatabase();
const OPERATOR = 'operator_token_from_the_environment';
let p: Pipeline;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  p = await startPipeline(t.db, { worker: false, ingress: { apiTokens: [OPERATOR] } });
});
afterEach(() => p.close());

function tokens(...args: string[]) {
  return run(
    CLI,
    { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, RETELL_API_KEY: TEST_API_KEY, NODE_ENV: 'production' },
    ['tokens', ...args],
  );
}

/** `make tokens ARGS="add ..."`: the token, from the line of its own it is printed on. */
async function addToken(...args: string[]): Promise<{ token: string; output: string }> {
  const cli = tokens('add', ...args);
  expect({ code: await cli.exited, output: cli.output() }).toMatchObject({ code: 0 });
  const token = cli
    .output()
    .split('\n')
    .find((l) => /^cs_[A-Za-z0-9_-]{43}$/.test(l));
  expect(token).toBeDefined();
  return { token: token!, output: cli.output() };
}

async function callOf(db: Db, agentId: string): Promise<string> {
  const callId = newCallId(agentId);
  const res = await p.deliver(body('call_started', { callId, agentId }));
  await processWebhookEventsBatch(db, [res.body.id], defaultHandlers);
  return callId;
}

const context = (callId: string, token: string) =>
  request(p.app).get(`/api/calls/${callId}/context`).set('authorization', `Bearer ${token}`);

describe('context API tokens per company', () => {
  it("a company's token reads its own calls, and another company's call is a 404 like an unknown one", async () => {
    const a = await addCompany(t.db, 'Praxis A', 'Europe/Berlin');
    const b = await addCompany(t.db, 'Praxis B', 'Europe/Berlin');
    await mapAgent(t.db, 'agent_a', a.id);
    await mapAgent(t.db, 'agent_b', b.id);
    const callA = await callOf(t.db, 'agent_a');
    const callB = await callOf(t.db, 'agent_b');
    const { token, output } = await addToken('--company', 'Praxis A', '--description', 'booking tool');
    expect(output).toContain('company "Praxis A" only');

    const own = await context(callA, token);
    expect([own.status, own.body.company?.name]).toEqual([200, 'Praxis A']);
    const other = await context(callB, token);
    const unknown = await context('call_nobody_knows', token);
    expect([other.status, other.body]).toEqual([404, { error: `callsync knows nothing of call ${callB}` }]);
    expect(unknown.status).toBe(404);

    // Operator tokens, from the environment or make tokens add --all, read both.
    const { token: operator } = await addToken('--all');
    for (const tok of [OPERATOR, operator])
      for (const callId of [callA, callB]) expect((await context(callId, tok)).status).toBe(200);

    // Stored as a hash only; list never shows it; a revoked token stops at once.
    const stored = await t.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
    expect(stored.map((r) => r.token_sha256)).toEqual([tokenSha256(token), tokenSha256(operator)]);
    expect(JSON.stringify(stored)).not.toContain(token);
    const list = tokens('list');
    expect(await list.exited).toBe(0);
    expect(list.output()).toMatch(/Praxis A \(\d+\).*booking tool/);
    expect(list.output()).toMatch(/\(all: operator\)/);
    expect(list.output()).not.toContain(token);
    expect(stored[0]!.last_used_at).not.toBeNull();
    const revoke = tokens('revoke', stored[0]!.id);
    expect(await revoke.exited).toBe(0);
    expect((await context(callA, token)).status).toBe(401);
  });

  it('add needs to say whose calls: --company or --all, and a company that exists', async () => {
    const neither = tokens('add');
    expect(await neither.exited).toBe(2);
    expect(neither.output()).toContain('--company NAME, or --all');
    const unknown = tokens('add', '--company', 'Nobody GmbH');
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('no company "Nobody GmbH"');
    expect(await t.db.selectFrom('api_tokens').selectAll().execute()).toEqual([]);
  });

  it('an operator command waits at most its lock timeout behind a row someone else holds, then says so', async () => {
    await addToken('--all');
    const [row] = await t.db.selectFrom('api_tokens').select('id').execute();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    const holder = t.db.transaction().execute(async (trx) => {
      await trx.selectFrom('api_tokens').select('id').where('id', '=', row!.id).forUpdate().execute();
      held();
      // Held far longer than the CLI's lock timeout; released as soon as the CLI has given up.
      await released;
    });
    await isHeld;
    try {
      const revoke = tokens('revoke', String(row!.id));
      expect(await revoke.exited).not.toBe(0);
      expect(revoke.output()).toMatch(/lock timeout/);
    } finally {
      release();
      await holder;
    }
  });
});
