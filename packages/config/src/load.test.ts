import { ConfigError, loadConfig, loadConfigFor } from './index';
import { DURATION_SETTINGS } from './renamed';

const connections = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };
const base = { ...connections, RETELL_API_KEY: 'key_a' };

function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

/** The same settings under the older names: each value in that name's unit. */
function oldNames(msOf: (defaultMs: number) => number): Record<string, string> {
  return Object.fromEntries(
    Object.values(DURATION_SETTINGS).map((s) => [s.old, String(msOf(s.defaultMs) / s.unit.ms)]),
  );
}
function newNames(msOf: (defaultMs: number) => number): Record<string, string> {
  return Object.fromEntries(Object.entries(DURATION_SETTINGS).map(([name, s]) => [name, `${msOf(s.defaultMs)}ms`]));
}

describe('each process validates only the settings it uses', () => {
  it('starts the dashboard without RETELL_API_KEY and without worker settings, ignoring a bad one', () => {
    const c = loadConfigFor('dashboard', { ...connections, WORKER_CONCURRENCY: 'lots', SWEEP_INTERVAL: 'often' });
    expect(c.dashboard).toEqual({ port: 3001, user: 'admin', password: undefined });
    expect(c.jobs).toEqual({ attempts: 5, backoffMs: 1000 });
    expect(Object.keys(c).sort()).toEqual(['dashboard', 'database', 'env', 'jobs', 'logLevel', 'redis', 'warnings']);
    expect(problems(() => loadConfigFor('worker', { ...base, WORKER_CONCURRENCY: 'lots' }))[0]).toMatch(
      /^WORKER_CONCURRENCY:/,
    );
  });

  it('starts the ingress and the live process with only the webhook keys of Retell', () => {
    const env = { ...connections, RETELL_WEBHOOK_KEYS: 'key_webhook' };
    expect(loadConfigFor('ingress', env).webhooks.keys).toEqual(['key_webhook']);
    expect(loadConfigFor('live', env).webhooks.keys).toEqual(['key_webhook']);
    expect(loadConfigFor('ingress', base).webhooks.keys).toEqual(['key_a']);
    expect(problems(() => loadConfigFor('ingress', connections))).toEqual([
      'RETELL_WEBHOOK_KEYS is required but not set (or RETELL_API_KEY, whose keys then verify webhooks)',
    ]);
  });

  it('refuses a worker without RETELL_API_KEY, naming it', () => {
    expect(problems(() => loadConfigFor('worker', { ...connections, RETELL_WEBHOOK_KEYS: 'w' }))).toEqual([
      'RETELL_API_KEY is required but not set',
    ]);
    expect(problems(() => loadConfig(connections))).toContain('RETELL_API_KEY is required but not set');
  });

  it('does not ask the live process for Redis', () => {
    const { REDIS_URL: _omit, ...noRedis } = base;
    expect(loadConfigFor('live', noRedis).live.port).toBe(3002);
    expect(problems(() => loadConfigFor('dashboard', noRedis))[0]).toMatch(/^REDIS_URL: is required/);
  });
});

describe('durations', () => {
  it('take a number with a unit under their new names', () => {
    const c = loadConfig({ ...base, RECONCILE_INTERVAL: '30s', PAYLOAD_RETENTION: '12h', FORWARD_TIMEOUT: '2.5s' });
    expect(c.reconcile.everyMinutes).toBe(0.5);
    expect(c.worker.retention.payloadDays).toBe(0.5);
    expect(c.forwarding.timeoutMs).toBe(2500);
    expect(c.warnings).toEqual([]);
  });

  it('refuse a value that is no duration, naming the variable and the format', () => {
    expect(problems(() => loadConfig({ ...base, RECONCILE_INTERVAL: '5' }))).toEqual([
      'RECONCILE_INTERVAL: "5" is not a duration: write a number with a unit (ms, s, m, h or d), such as 30s, 5m, 2h or 90d',
    ]);
    expect(problems(() => loadConfig({ ...base, STALE_AFTER: '0s' }))).toEqual(['STALE_AFTER: must be more than 0']);
  });

  it('accept every older name in its old unit, with one warning each that names the new variable', () => {
    const doubled = (ms: number) => ms * 2;
    const fromOld = loadConfig({ ...base, ...oldNames(doubled), SHUTDOWN_DRAIN_MS: '7000' });
    const fromNew = loadConfig({ ...base, ...newNames(doubled), SHUTDOWN_DRAIN: '7s' });
    expect({ ...fromOld, warnings: [] }).toEqual({ ...fromNew, warnings: [] });
    expect(fromOld).not.toEqual(loadConfig(base));
    expect(fromNew.warnings).toEqual([]);
    // JOB_BACKOFF is read by two sections, and still said once.
    expect(fromOld.warnings).toHaveLength(Object.keys(DURATION_SETTINGS).length);
    for (const [name, { old }] of Object.entries(DURATION_SETTINGS)) {
      expect(fromOld.warnings.filter((w) => w.startsWith(`${old} `))).toHaveLength(1);
      expect(fromOld.warnings.find((w) => w.startsWith(`${old} `))).toContain(`set ${name}=`);
    }
    expect(loadConfig({ ...base, RECONCILE_EVERY_MINUTES: '0.5' }).warnings).toEqual([
      'RECONCILE_EVERY_MINUTES (a number of minutes) is still accepted but replaced by RECONCILE_INTERVAL, which takes a duration: set RECONCILE_INTERVAL=30s instead',
    ]);
  });

  it('accept an older name next to its new one when both say the same, and refuse them when they differ', () => {
    const same = loadConfig({ ...base, STALE_AFTER_MINUTES: '2', STALE_AFTER: '120s' });
    expect(same.reconcile.staleAfterMinutes).toBe(2);
    expect(same.warnings).toHaveLength(1);
    expect(problems(() => loadConfig({ ...base, STALE_AFTER_MINUTES: '2', STALE_AFTER: '5m' }))).toEqual([
      'STALE_AFTER (5m) and STALE_AFTER_MINUTES (2 minutes) are both set and differ: set only STALE_AFTER',
    ]);
  });

  it('keep the older names’ own checks', () => {
    expect(problems(() => loadConfig({ ...base, SWEEP_EVERY_SECONDS: '0' }))[0]).toMatch(/^SWEEP_EVERY_SECONDS:/);
    expect(problems(() => loadConfig({ ...base, JOB_BACKOFF_MS: '1.5' }))[0]).toMatch(/^JOB_BACKOFF_MS:/);
  });
});
