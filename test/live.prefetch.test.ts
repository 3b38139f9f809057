import type { Express } from 'express';
import { listenForTenantChanges, type StartedCall, type TenantListener } from '@callsync/db/tenants';
import {
  ContextCache,
  defaultHandlers,
  forget,
  invalidateTenantCache,
  prefetchCallContext,
  processWebhookEventsBatch,
  TenantDirectory,
} from '@callsync/domain';
import { sampleCall } from '@callsync/retell';
import { notifyCallStarted } from '@callsync/testkit';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_KEYS } from './support/keys';
import { startPipeline } from './support/pipeline';
import { addWeberPractice, liveAppWithRouting, signedPost } from './support/live';
import { until } from './support/processes';

/**
 * Prefetch: at call_inbound (and call_started, announced on callsync_calls) the caller's context is
 * resolved and kept, so the call's first function answers from memory: the same answer as from
 * Postgres.
 */
const t = useTestDatabase();
const NUMBER = '+493033081738';
const CALLER = '+491604366218';
let app: Express;
let directory: TenantDirectory;
let cache: ContextCache;
let listener: TenantListener | undefined;

beforeEach(async () => {
  await truncateAll(t.db);
  await t.db.deleteFrom('function_calls').execute();
  invalidateTenantCache();
  await addWeberPractice(t.db, NUMBER);
  // One earlier call of the caller, applied: the history the agent should hear.
  const p = await startPipeline(t.db, { worker: false });
  try {
    const earlier = newCallId('earlier');
    const id = (await p.deliver(body('call_analyzed', { callId: earlier, agentId: 'agent_weber' }))).body.id;
    await processWebhookEventsBatch(t.db, [id], defaultHandlers);
  } finally {
    await p.close();
  }
  ({ app, directory, cache } = await liveAppWithRouting(t.db, t.db));
});
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

const liveCall = (callId: string) =>
  sampleCall({ callId, agentId: 'agent_weber', startMs: Date.now() - 30_000, fromNumber: CALLER }, 'call_started');

const history = (callId: string) =>
  signedPost(app, '/api/retell/functions/get_caller_history', {
    name: 'get_caller_history',
    args: {},
    call: liveCall(callId),
  });

describe('prefetch', () => {
  it('call_inbound keeps the caller’s context; the first function answers from it, as it would from Postgres', async () => {
    const callId = newCallId('inbound');
    const answered = await signedPost(app, '/api/retell/inbound', {
      event: 'call_inbound',
      call_inbound: { from_number: CALLER, to_number: NUMBER, agent_id: 'agent_weber', call_id: callId },
    });
    expect(answered.body.call_inbound.dynamic_variables).toMatchObject({ caller_call_count: '1' });
    expect(cache.has(callId)).toBe(true);
    const fromMemory = await history(callId);
    expect(cache.hits).toBe(1);
    expect(fromMemory.text).toMatch(/^The caller has called 1 time before; .*Last time: The caller booked/);
    // The same question for a call nobody prefetched goes to Postgres and gets the same sentence.
    const fromPostgres = await history(newCallId('cold'));
    expect(cache.misses).toBe(1);
    expect(fromPostgres.text).toBe(fromMemory.text);
  });

  it('a call_started the ingress acknowledges is announced on callsync_calls and prefetched by the live routes that listen', async () => {
    const callId = newCallId('started');
    listener = listenForTenantChanges(
      t.url,
      () => void directory.refresh(),
      () => undefined,
      (call: StartedCall) => void prefetchCallContext(t.db, TEST_KEYS, { directory, prefetched: cache }, call),
    );
    // The listener is up once it has connected; then the ingress acknowledges the call's call_started.
    await until('the listener to connect', async () => {
      await notifyCallStarted(t.db, { call_id: 'probe', agent_id: 'agent_weber', direction: 'inbound' });
      return cache.has('probe') ? true : undefined;
    });
    const ingress = await startPipeline(t.db, { worker: false });
    try {
      const started = await ingress.deliver(
        body('call_started', { callId, agentId: 'agent_weber', startMs: Date.now() - 1000 }),
      );
      expect(started.status).toBe(200);
      await until('the announced call to be prefetched', async () => (cache.has(callId) ? true : undefined));
    } finally {
      await ingress.close();
    }
    expect((await history(callId)).text).toMatch(/^The caller has called 1 time before/);
    expect(cache.hits).toBe(1);
  });

  it('an erasure (make forget) drops what was prefetched: the erased caller is not heard from memory', async () => {
    const callId = newCallId('erased');
    listener = listenForTenantChanges(
      t.url,
      () => void directory.refresh(),
      () => undefined,
      (call: StartedCall) => void prefetchCallContext(t.db, TEST_KEYS, { directory, prefetched: cache }, call),
      () => cache.clear(),
    );
    await until('the listener to connect and prefetch the call', async () => {
      await notifyCallStarted(t.db, {
        call_id: callId,
        agent_id: 'agent_weber',
        direction: 'inbound',
        from_number: CALLER,
      });
      return cache.has(callId) ? true : undefined;
    });
    await forget({ db: t.db }, { caller: CALLER, callerHashes: [] });
    await until('the prefetched caller to be dropped', async () => (cache.has(callId) ? undefined : true));
    const after = await history(callId);
    expect(after.text).not.toMatch(/called 1 time before/);
    expect(after.text).not.toContain('booked');
  });
});
