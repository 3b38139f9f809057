import { sql } from 'kysely';
import request from 'supertest';
import { BOARD_PATH, createDashboardApp } from '@callsync/dashboard';
import { useTestDatabase, truncateAll } from './support/database';
import { startPipeline, type Pipeline } from './support/pipeline';

/*
 * The dashboard against someone guessing: failed logins cost growing delays (429), CSRF tokens are
 * random per browser session, bound to a cookie and used once, and every page, Bull Board's too,
 * refuses to be framed.
 */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
let p: Pipeline;
let clock: number;
beforeEach(async () => {
  await truncateAll(t.db);
  p = await startPipeline(t.db, { worker: false });
  clock = 1_000_000;
});
afterEach(() => p.close());

const app = () =>
  createDashboardApp({
    queues: [p.queue],
    db: t.db,
    webhookQueue: p.queue,
    auth: AUTH,
    loginThrottle: { freeFailures: 3, baseDelayMs: 1000, now: () => clock },
  });

describe('failed logins', () => {
  it('cost nothing at first, then growing delays answered 429, right password or not; a success clears them', async () => {
    const dashboard = app();
    const login = (password: string) => request(dashboard).get('/console/calls').auth(AUTH.user, password);
    // A browser's first request carries no credentials: not a failure.
    for (let i = 0; i < 5; i++) expect((await request(dashboard).get('/console/calls')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await login(`guess ${i}`)).status).toBe(401);

    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await login(`guess again ${i}`);
      expect(res.status).toBe(429);
      waits.push(Number(res.headers['retry-after']));
      // While locked out even the right password is refused, so guessing cannot go on.
      const right = await login(AUTH.password);
      expect(right.status).toBe(429);
      expect(right.text).not.toContain('<table');
      clock += waits[i]! * 1000;
    }
    expect(waits).toEqual([1, 2, 4, 8]);

    expect((await login(AUTH.password)).status).toBe(200);
    expect((await login('one more guess')).status).toBe(401);
  });
});

describe('CSRF tokens', () => {
  const tokenOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const eventsPage = (agent: ReturnType<typeof request.agent>) =>
    agent.get('/console/events?status=failed').auth(AUTH.user, AUTH.password);
  const replay = (agent: ReturnType<typeof request.agent> | ReturnType<typeof request>, csrf: string) =>
    agent.post('/console/events/replay').auth(AUTH.user, AUTH.password).type('form').send({ csrf, status: 'failed' });

  it('are random per session, bound to an HttpOnly SameSite cookie, and rotated after each use', async () => {
    await sql`insert into webhook_events (event_type, call_id, dedupe_key, payload, status, error, processed_at)
      values ('call_started', 'call_csrf', 'csrf:1', '{"event":"call_started","call":{"call_id":"call_csrf"}}'::jsonb, 'failed', 'boom', now())`.execute(
      t.db,
    );
    const dashboard = app();
    const alice = request.agent(dashboard);
    const bob = request.agent(dashboard);
    const alicePage = await eventsPage(alice);
    expect(alicePage.headers['set-cookie']?.[0]).toMatch(
      /^callsync_csrf=[\w-]{43}; Path=\/console; HttpOnly; SameSite=Strict/,
    );
    const aliceToken = tokenOf(alicePage.text);
    const bobToken = tokenOf((await eventsPage(bob)).text);
    expect(aliceToken).not.toBe(bobToken);
    // The same session keeps its token across pages until it is used.
    expect(tokenOf((await eventsPage(alice)).text)).toBe(aliceToken);

    // A leaked form body is not enough: without the session's cookie, or with another's, refused.
    expect((await replay(request(dashboard), aliceToken)).status).toBe(403);
    expect((await replay(bob, aliceToken)).status).toBe(403);

    const used = await replay(alice, aliceToken);
    expect(used.status).toBe(303);
    expect(used.headers['set-cookie']?.[0]).toMatch(/^callsync_csrf=/);
    // Used once: the old token is refused, the session's new one works.
    expect((await replay(alice, aliceToken)).status).toBe(403);
    const fresh = tokenOf((await eventsPage(alice)).text);
    expect(fresh).not.toBe(aliceToken);
    expect((await replay(alice, fresh)).status).toBe(303);
  });
});

describe('headers', () => {
  it('Bull Board, the console and the login challenge refuse to be framed', async () => {
    const dashboard = app();
    for (const res of [
      await request(dashboard).get(`${BOARD_PATH}/`).auth(AUTH.user, AUTH.password),
      await request(dashboard).get('/console/calls').auth(AUTH.user, AUTH.password),
      await request(dashboard).get(`${BOARD_PATH}/`),
    ]) {
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});
