import { ConfigError, loadConfig } from './index';

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  RETELL_API_KEY: 'key_a',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the SPEC defaults', () => {
    const c = loadConfig(base);
    expect(c.ingress.port).toBe(3000);
    expect(c.dashboard.port).toBe(3001);
    expect(c.worker.concurrency).toBe(16);
    expect(c.ingress.maxBodyBytes).toBe(5 * 1024 * 1024);
    expect(c.reconcile).toEqual({ staleAfterMinutes: 5, everyMinutes: 5, analysisAfterMinutes: 30, maxTries: 3 });
    expect(loadConfig({ ...base, RECONCILE_EVERY_MINUTES: '0.05' }).reconcile.everyMinutes).toBe(0.05);
    expect(c.retell.apiBaseUrl).toBe('https://api.retellai.com');
    expect(c.redis.prefix).toBe('{callsync}');
  });

  it('names a missing variable', () => {
    const { DATABASE_URL: _omit, ...rest } = base;
    expect(problems(rest)).toEqual(['DATABASE_URL is required but not set']);
  });

  it('names a malformed variable and says what is wrong', () => {
    const p = problems({ ...base, PORT: 'eighty', DATABASE_URL: 'mysql://x/y' });
    expect(p).toHaveLength(2);
    expect(p.find((x) => x.startsWith('PORT:'))).toBeDefined();
    expect(p.find((x) => x.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\//);
  });

  it('requires some Redis connection', () => {
    const { REDIS_URL: _omit, ...rest } = base;
    expect(problems(rest)[0]).toMatch(/^REDIS_URL: is required/);
    const c = loadConfig({ ...rest, REDIS_CLUSTER_NODES: '127.0.0.1:7001, 127.0.0.1:7002' });
    expect(c.redis.clusterNodes).toEqual([
      { host: '127.0.0.1', port: 7001 },
      { host: '127.0.0.1', port: 7002 },
    ]);
  });

  it('splits a rotated key list and freezes the result', () => {
    const c = loadConfig({ ...base, RETELL_API_KEY: 'new_key, old_key' });
    expect(c.retell.apiKeys).toEqual(['new_key', 'old_key']);
    expect(Object.isFrozen(c.retell)).toBe(true);
  });

  it('rejects a queue prefix without a hash tag', () => {
    expect(problems({ ...base, QUEUE_PREFIX: 'callsync' })[0]).toMatch(/^QUEUE_PREFIX: must be a Redis hash tag/);
  });
});
