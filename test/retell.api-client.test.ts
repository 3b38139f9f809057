import { sampleCall, sampleChat } from '@callsync/retell';
import { RetellApiClient, RetellApiError } from '@callsync/retell';
import { clientRecordingWaits, startFakeRetell } from './support/fake-retell';

let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeEach(async () => {
  f = await startFakeRetell({ concurrency: 2, maxRetries: 3 });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await f.fake.stop();
});

/** Date.now frozen at a moment the test moves on by hand: the client's pauses are computed from it. */
function frozenClock(): { advance(ms: number): void } {
  let now = Date.now();
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
  return {
    advance(ms) {
      now += ms;
      spy.mockImplementation(() => now);
    },
  };
}

describe('Retell get-call client (against a fake Retell on loopback)', () => {
  it('returns the typed call and sends the bearer key', async () => {
    f.fake.setCall(sampleCall({ callId: 'call_1' }, 'call_ended'));
    const r = await f.client.getCall('call_1');
    expect(r).toMatchObject({
      found: true,
      call: { call_id: 'call_1', call_status: 'ended', disconnection_reason: 'user_hangup' },
    });
    expect(f.fake.requests).toEqual([
      expect.objectContaining({ path: '/v2/get-call/call_1', authorized: true, status: 200 }),
    ]);
  });

  it('treats 404 and 422 as not found, without retrying', async () => {
    expect(await f.client.getCall('unknown')).toEqual({ found: false, status: 422 });
    f.fake.behave('gone', { status: 404 });
    expect(await f.client.getCall('gone')).toEqual({ found: false, status: 404 });
    expect(f.fake.requests).toHaveLength(2);
  });

  it('honours retry-after on 429, then succeeds', async () => {
    frozenClock();
    const { client, waits } = clientRecordingWaits(f.baseUrl, { maxRetries: 3 });
    f.fake.setCall({ call_id: 'busy', call_status: 'ongoing' });
    f.fake.behave('busy', { status: 429, retryAfterSec: 1, times: 1 });
    expect(await client.getCall('busy')).toMatchObject({ found: true, call: { call_status: 'ongoing' } });
    expect(f.fake.getCallRequests('busy').map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toEqual([1000]);
  });

  it('honours retry-after-ms', async () => {
    frozenClock();
    const { client, waits } = clientRecordingWaits(f.baseUrl, { maxRetries: 3 });
    f.fake.setCall({ call_id: 'busy_ms', call_status: 'ongoing' });
    f.fake.behave('busy_ms', { status: 429, retryAfterMs: 700, times: 1 });
    await client.getCall('busy_ms');
    expect(f.fake.getCallRequests('busy_ms').map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toEqual([700]);
  });

  it('pauses every request while a 429 asks it to, not only the refused one', async () => {
    const clock = frozenClock();
    const { client, waits } = clientRecordingWaits(f.baseUrl, { maxRetries: 3 });
    for (const id of ['limited', 'next', 'later']) f.fake.setCall({ call_id: id, call_status: 'ongoing' });
    f.fake.behave('limited', { status: 429, retryAfterMs: 600, times: 1 });
    await client.getCall('limited');
    expect(waits).toEqual([600]);
    // 200 ms into the pause, a request that was never refused waits out the rest of it.
    clock.advance(200);
    await client.getCall('next');
    expect(waits).toEqual([600, 400]);
    // Once it has passed, nothing waits.
    clock.advance(400);
    await client.getCall('later');
    expect(waits).toEqual([600, 400]);
    expect(f.fake.requests.map((r) => r.status)).toEqual([429, 200, 200, 200]);
  });

  it('backs off exponentially between retries, with jitter between half and all of each step, capped', async () => {
    const { client, waits } = clientRecordingWaits(f.baseUrl, { maxRetries: 3, backoffMs: 100, maxBackoffMs: 300 });
    f.fake.setCall({ call_id: 'shaky', call_status: 'ended' });
    const random = jest.spyOn(Math, 'random');
    random.mockReturnValue(1 - Number.EPSILON);
    f.fake.behave('shaky', { status: 503, times: 3 });
    expect(await client.getCall('shaky')).toMatchObject({ found: true });
    expect(waits.map(Math.round)).toEqual([100, 200, 300]);
    random.mockReturnValue(0);
    waits.length = 0;
    f.fake.behave('shaky', { status: 503, times: 3 });
    expect(await client.getCall('shaky')).toMatchObject({ found: true });
    expect(waits).toEqual([50, 100, 150]);
  });

  it('gets every call through a rate limit, without spending its retries on the 429s', async () => {
    const limited = await startFakeRetell({ concurrency: 8, maxRetries: 1 }, { rateLimitPerSecond: 20 });
    try {
      const ids = Array.from({ length: 50 }, (_, i) => `rl_${i}`);
      for (const id of ids) limited.fake.setCall({ call_id: id, call_status: 'ended' });
      const results = await Promise.all(ids.map((id) => limited.client.getCall(id)));
      expect(results.every((r) => r.found)).toBe(true);
      // The limit was hit, and every call was still answered.
      expect(limited.fake.throttled).toBeGreaterThan(0);
      expect(limited.fake.requests.filter((r) => r.status === 200)).toHaveLength(50);
    } finally {
      await limited.fake.stop();
    }
  });

  it('retries 408, 409 and 5xx, and gives up with a RetellApiError naming the status', async () => {
    f.fake.setCall({ call_id: 'flaky', call_status: 'ended' });
    f.fake.behave('flaky', { status: 503, times: 2 });
    expect(await f.client.getCall('flaky')).toMatchObject({ found: true });
    f.fake.behave('down', { status: 500 });
    const err = await f.client.getCall('down').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetellApiError);
    expect((err as RetellApiError).message).toMatch(/failed after 4 tries: status 500/);
    expect(f.fake.getCallRequests('down')).toHaveLength(4);
    for (const status of [408, 409]) {
      f.fake.setCall({ call_id: `c${status}`, call_status: 'ended' });
      f.fake.behave(`c${status}`, { status, times: 1 });
      expect(await f.client.getCall(`c${status}`)).toMatchObject({ found: true });
    }
  });

  it('does not retry a 500 or a 429 that says x-should-retry: false', async () => {
    f.fake.behave('final', { status: 500, headers: { 'x-should-retry': 'false' } });
    const err = await f.client.getCall('final').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetellApiError);
    expect((err as RetellApiError).status).toBe(500);
    expect(f.fake.getCallRequests('final')).toHaveLength(1);
    f.fake.behave('refused', { status: 429, retryAfterMs: 50, headers: { 'x-should-retry': 'false' } });
    await expect(f.client.getCall('refused')).rejects.toMatchObject({ name: 'RetellApiError', status: 429 });
    expect(f.fake.getCallRequests('refused')).toHaveLength(1);
  });

  it('retries a 400 that says x-should-retry: true, then succeeds', async () => {
    f.fake.setCall({ call_id: 'again', call_status: 'ended' });
    f.fake.behave('again', { status: 400, headers: { 'x-should-retry': 'true' }, times: 1 });
    expect(await f.client.getCall('again')).toMatchObject({ found: true, call: { call_id: 'again' } });
    expect(f.fake.getCallRequests('again').map((r) => r.status)).toEqual([400, 200]);
  });

  it('says to check the key on 401, without retrying', async () => {
    const wrongKey = new RetellApiClient({ baseUrl: f.baseUrl, apiKey: 'key_wrong' });
    await expect(wrongKey.getCall('x')).rejects.toThrow(/answered 401 \(check RETELL_API_KEY\)/);
    expect(f.fake.requests).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    f.fake.behave('*', { delayMs: 150 });
    for (let i = 0; i < 6; i++) f.fake.setCall({ call_id: `p${i}`, call_status: 'ongoing' });
    await Promise.all(Array.from({ length: 6 }, (_, i) => f.client.getCall(`p${i}`)));
    expect(f.fake.requests).toHaveLength(6);
    expect(f.fake.maxInFlight).toBe(2);
  });

  it('times out a request that hangs, and retries it', async () => {
    const impatient = new RetellApiClient({
      baseUrl: f.baseUrl,
      apiKey: 'key_test_callsync_0123456789abcdef',
      timeoutMs: 100,
      backoffMs: 10,
      maxRetries: 1,
    });
    f.fake.setCall({ call_id: 'slow', call_status: 'ongoing' });
    f.fake.behave('slow', { delayMs: 400, times: 1 });
    expect(await impatient.getCall('slow')).toMatchObject({ found: true });
    expect(f.fake.getCallRequests('slow')).toHaveLength(2);
  });

  it('gives v3 list-calls and list-chats their own, longer timeout than get-call', async () => {
    const client = new RetellApiClient({
      baseUrl: f.baseUrl,
      apiKey: 'key_test_callsync_0123456789abcdef',
      timeoutMs: 300,
      listTimeoutMs: 3000,
      maxRetries: 0,
    });
    const startMs = Date.now() - 60_000;
    f.fake.setCall(sampleCall({ callId: 'listed', startMs }, 'call_ended'));
    f.fake.setChat(sampleChat({ chatId: 'chat_listed', startMs }, 'chat_ended'));
    f.fake.behave('list-calls', { delayMs: 800, times: 1 });
    f.fake.behave('list-chats', { delayMs: 800, times: 1 });
    const calls = await client.listCalls(startMs - 1000, Date.now());
    expect(calls.map((c) => c.call_id)).toEqual(['listed']);
    const chats = await client.listChats(startMs - 1000, Date.now());
    expect(chats.map((c) => c.chat_id)).toEqual(['chat_listed']);
    // The same delay on get-call is past its timeout.
    f.fake.behave('listed', { delayMs: 800, times: 1 });
    await expect(client.getCall('listed')).rejects.toThrow(/failed after 1 tries: timeout of 300ms exceeded/);
    expect(f.fake.getCallRequests('listed')).toHaveLength(1);
  });

  it('rejects a response that is not a call', async () => {
    f.fake.setCall({ call_id: 'weird' } as never);
    await expect(f.client.getCall('weird')).rejects.toThrow(/unexpected response: call_status/);
  });
});
