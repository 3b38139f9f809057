import { createTestDatabase, type TestDatabase } from './support/database';
import { serviceUrls } from './support/env';
import { assertBuilt, CLI, DASHBOARD, freePort, INGRESS, run, until, WORKER } from './support/processes';

let t: TestDatabase;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** The built processes, each started with only the settings it reads (packages/config sections). */
describe('process configuration', () => {
  it('starts the dashboard without RETELL_API_KEY, saying once that an older variable name is replaced', async () => {
    const port = await freePort();
    const d = run(DASHBOARD, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      NODE_ENV: 'production',
      DASHBOARD_PORT: String(port),
      DASHBOARD_PASSWORD: 'config-test',
      JOB_BACKOFF_MS: '2000',
    });
    try {
      const health = await until('dashboard /healthz', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        return res.ok ? res.json() : undefined;
      });
      expect(health).toEqual({ status: 'ok' });
      const warnings = d
        .output()
        .split('\n')
        .filter((line) => line.includes('JOB_BACKOFF_MS'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({
        level: 'warn',
        service: 'dashboard',
        message: expect.stringContaining('set JOB_BACKOFF=2s instead') as string,
      });
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it('starts the ingress with only the webhook keys of Retell', async () => {
    const port = await freePort();
    const ingress = run(INGRESS, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      RETELL_WEBHOOK_KEYS: 'key_webhook_only',
      PORT: String(port),
      INGRESS_METRICS_PORT: '0',
      SHUTDOWN_DRAIN: '0',
      NODE_ENV: 'production',
    });
    try {
      await until('ingress /readyz', async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined,
      );
      expect(ingress.output()).not.toMatch(/"level":"warn"/);
      ingress.child.kill('SIGTERM');
      expect(await ingress.exited).toBe(0);
    } finally {
      ingress.child.kill('SIGKILL');
    }
  });

  it('refuses a worker without RETELL_API_KEY, and a bad duration, naming the variable and the format', async () => {
    const env = { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, WORKER_METRICS_PORT: '0' };
    const w = run(WORKER, env);
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain('RETELL_API_KEY is required but not set');
    const bad = run(WORKER, { ...env, RETELL_API_KEY: 'key_a', SWEEP_INTERVAL: '30' });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('SWEEP_INTERVAL: "30" is not a duration: write a number with a unit');
  });

  it('runs the CLI on callsync’s own data without RETELL_API_KEY; a command that asks Retell names it', async () => {
    const env = { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl };
    const migrate = run(CLI, env, ['migrate']);
    expect(await migrate.exited).toBe(0);
    const list = run(CLI, env, ['destinations', 'list']);
    expect(await list.exited).toBe(0);
    expect(list.output()).not.toContain('RETELL_API_KEY');
    const reconcile = run(CLI, env, ['reconcile']);
    expect(await reconcile.exited).toBe(1);
    expect(reconcile.output()).toContain('RETELL_API_KEY is required but not set');
  });
});
