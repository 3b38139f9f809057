import express, { type Express } from 'express';
import { type Db } from '@callsync/db';
import { ContextCache, invalidateTenantCache, prefetchCallContext, TenantDirectory } from '@callsync/domain';
import { sampleCall } from '@callsync/retell';
import { probedDb, type PoolProbe } from '@callsync/testkit';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId } from './support/calls';
import { TEST_KEYS } from './support/keys';
import { addWeberPractice, liveAppWithRouting, signedPost } from './support/live';
import { until } from './support/processes';

/**
 * The Postgres round trips an answer waits on (issue 33: under load the live routes' time went to
 * waiting for the pool, so every statement on an answer's path costs a queue). The live app reads
 * through a pool that counts every statement pg sends; what was sent before the answer's `res.end`
 * is what the answer could have waited on. Statements sent after it (records) are counted apart.
 */
const t = useTestDatabase();
const NUMBER = '+493033081738';
const CALLER = '+491604366218';
let live: { db: Db; probe: PoolProbe };
let app: Express;
let directory: TenantDirectory;
let cache: ContextCache;
/** Statements sent before the answer of each request, in order. */
let beforeAnswer: string[][] = [];

beforeAll(() => {
  live = probedDb(t.url, 4, 'round-trips-test');
});
afterAll(() => live.db.destroy());

beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  await addWeberPractice(t.db, NUMBER);
  let liveApp: Express;
  ({ app: liveApp, directory, cache } = await liveAppWithRouting(t.db, live.db));
  app = express();
  app.use((_req, res, next) => {
    const end = res.end.bind(res) as (...a: unknown[]) => express.Response;
    res.end = ((...args: unknown[]) => {
      beforeAnswer.push([...live.probe.sent]);
      live.probe.take();
      return end(...args);
    }) as typeof res.end;
    next();
  });
  app.use(liveApp);
  // The caller-hash salt is read once per pool: not on any answer's path after the first.
  await prefetchCallContext(
    live.db,
    TEST_KEYS,
    { directory, prefetched: cache },
    { call_id: 'warm', from_number: CALLER },
  );
  live.probe.take();
  beforeAnswer = [];
});

function functionCall(callId: string, toolCallId: string) {
  const call = sampleCall(
    { callId, agentId: 'agent_weber', startMs: Date.now() - 30_000, fromNumber: CALLER },
    'call_started',
  );
  const args = {};
  return {
    name: 'get_call_context',
    args,
    call: {
      ...call,
      transcript_with_tool_calls: [
        { role: 'tool_call_invocation', tool_call_id: toolCallId, name: 'get_call_context', arguments: '{}' },
      ],
    },
  };
}

/** The request's status and the statements sent between its arrival and its answer. */
async function ask(path: string, payload: unknown): Promise<{ status: number; body: string; statements: string[] }> {
  live.probe.take();
  const res = await signedPost(app, path, payload);
  return { status: res.status, body: res.text, statements: beforeAnswer.shift() ?? [] };
}

const recorded = (toolCallId: string) =>
  until(`the invocation ${toolCallId} to be recorded`, async () => {
    const row = await t.db
      .selectFrom('function_calls')
      .select(['status', 'replays'])
      .where('tool_call_id', '=', toolCallId)
      .executeTakeFirst();
    return row?.status === 'ok' ? row : undefined;
  });

describe('Postgres round trips on the answer path', () => {
  it('a prefetched function call waits on one: the claim of its tool_call_id; its result is recorded after the answer', async () => {
    const callId = newCallId('prefetched');
    await prefetchCallContext(
      live.db,
      TEST_KEYS,
      { directory, prefetched: cache },
      {
        call_id: callId,
        agent_id: 'agent_weber',
        direction: 'inbound',
        from_number: CALLER,
        to_number: NUMBER,
      },
    );
    live.probe.take();
    const first = await ask('/api/retell/functions/get_call_context', functionCall(callId, 'tc_p1'));
    expect(first.status).toBe(200);
    expect(cache.hits).toBe(1);
    expect(first.statements).toHaveLength(1);
    expect(first.statements[0]).toMatch(/insert into function_calls/);
    expect(await recorded('tc_p1')).toMatchObject({ status: 'ok' });

    // Retell's retry of the answered invocation: one statement, the claim that finds the record.
    const retry = await ask('/api/retell/functions/get_call_context', functionCall(callId, 'tc_p1'));
    expect(retry.status).toBe(200);
    expect(retry.statements).toHaveLength(1);
    await until('the replay to be counted', async () => ((await recorded('tc_p1')).replays === 1 ? true : undefined));
  });

  it('a function call nobody prefetched waits on one too: its claim reads the call’s state and facts', async () => {
    const cold = await ask('/api/retell/functions/get_call_context', functionCall(newCallId('cold'), 'tc_c1'));
    expect(cold.status).toBe(200);
    expect(cache.misses).toBe(1);
    expect(cold.statements).toHaveLength(1);
    expect(cold.statements[0]).toMatch(/insert into function_calls[\s\S]*retell_call_sessions[\s\S]*companies/);
    expect(cold.body).toContain('Praxis Dr. Weber');
  });

  it('an inbound answer waits on one: the caller’s history (and a retry’s answer); its record goes after the answer', async () => {
    const answered = await ask('/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { from_number: CALLER, to_number: NUMBER, agent_id: 'agent_weber', call_id: newCallId('in') },
    });
    expect(answered.status).toBe(200);
    expect(answered.statements).toHaveLength(1);
    expect(answered.statements[0]).not.toMatch(/insert/);
  });
});

describe('the second pool', () => {
  it('records after the answers go through a pool of their own: the answers’ pool carries only what answers wait on', async () => {
    const background = probedDb(t.url, 2, 'round-trips-background');
    try {
      const { app: split } = await liveAppWithRouting(t.db, live.db, background.db);
      live.probe.take();
      background.probe.take();
      const inbound = await signedPost(split, '/api/retell/inbound', {
        event: 'call_inbound',
        call_inbound: { from_number: CALLER, to_number: NUMBER, agent_id: 'agent_weber', call_id: newCallId('bg') },
      });
      expect(inbound.status).toBe(200);
      const fn = await signedPost(
        split,
        '/api/retell/functions/get_call_context',
        functionCall(newCallId('bg'), 'tc_bg1'),
      );
      expect(fn.status).toBe(200);
      expect(await recorded('tc_bg1')).toMatchObject({ status: 'ok' });
      await until('the inbound record', async () => {
        const row = await t.db
          .selectFrom('webhook_events')
          .select('id')
          .where('event_type', '=', 'call_inbound')
          .executeTakeFirst();
        return row ? true : undefined;
      });

      const answers = live.probe.sent.join('\n');
      const records = background.probe.sent.join('\n');
      // Before, both records went through the answers' pool, where a caller's statement queued behind them.
      expect(answers).not.toMatch(/insert into webhook_events|update function_calls/);
      expect(records).toMatch(/insert into webhook_events/);
      expect(records).toMatch(/update function_calls/);
    } finally {
      await background.db.destroy();
    }
  });
});
