import { sql } from 'kysely';
import { findCallSession } from '@callsync/db/sessions';
import { createTestDatabase, type TestDatabase } from './support/database';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { assertBuilt, CLI, run } from './support/processes';

/** `make reconcile` is `node apps/cli/dist/main.js reconcile $(ARGS)`; run exactly that. */
let t: TestDatabase;
let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
  f = await startFakeRetell();
});
afterAll(async () => {
  await f.fake.stop();
  await t.drop();
});

function reconcile(...args: string[]) {
  const env = {
    DATABASE_URL: t.url,
    REDIS_URL: serviceUrls().redisUrl,
    RETELL_API_KEY: TEST_API_KEY,
    RETELL_API_BASE_URL: f.baseUrl,
    NODE_ENV: 'production',
    WORKER_METRICS_PORT: '0',
    INGRESS_METRICS_PORT: '0',
  };
  return run(CLI, env, ['reconcile', ...args]);
}

async function stale(callId: string, ageMinutes: number): Promise<void> {
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, lifecycle_rank)
            values (${callId}, 'in_progress', now() - make_interval(mins => ${ageMinutes}), 1)`.execute(t.db);
}

describe('make reconcile', () => {
  it('closes stale calls by hand, prints each call and the summary, exits 0', async () => {
    await stale('cli_ended', 20);
    await stale('cli_ongoing', 20);
    await stale('cli_young', 3);
    f.fake.setCall({
      call_id: 'cli_ended',
      call_status: 'ended',
      end_timestamp: Date.now() - 60_000,
      duration_ms: 1000,
      disconnection_reason: 'user_hangup',
    });
    f.fake.setCall({ call_id: 'cli_ongoing', call_status: 'ongoing' });

    const dry = reconcile('--dry-run');
    expect(await dry.exited).toBe(0);
    expect(dry.output()).toContain('dry run: nothing is written');
    expect((await findCallSession(t.db, 'cli_ended'))?.call_status).toBe('in_progress');

    const p = reconcile();
    expect(await p.exited).toBe(0);
    const out = p.output();
    expect(out).toContain('cli_ended: ended (ended)');
    expect(out).toContain('cli_ongoing: still ongoing (ongoing)');
    expect(out).not.toContain('cli_young');
    expect(out).toMatch(/found 2, ended 1, still ongoing 1, not found 0, failed 0/);
    expect((await findCallSession(t.db, 'cli_ended'))?.call_status).toBe('ended');

    const older = reconcile('--older-than', '2m');
    expect(await older.exited).toBe(0);
    expect(older.output()).toMatch(/cli_young: not found \(HTTP 422\)/);
  });

  it('exits non-zero when a call could not be checked', async () => {
    await stale('cli_broken', 30);
    f.fake.behave('cli_broken', { status: 500 });
    const p = reconcile('--call-id', 'cli_broken');
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(
      /cli_broken: FAILED \(GET \/v2\/get-call\/cli_broken failed after 5 tries: status 500\)/,
    );
    expect(p.output()).toMatch(/failed 1/);
  });

  it('rejects an unknown flag with the usage', async () => {
    const p = reconcile('--since', 'yesterday');
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/Unknown option '--since'[\s\S]*--older-than <age>/);
  });
});
