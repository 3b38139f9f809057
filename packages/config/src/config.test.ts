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
  it('applies the documented defaults', () => {
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

  it('verifies webhooks with the API key unless RETELL_WEBHOOK_KEYS is set', () => {
    expect(loadConfig(base).retell).toMatchObject({ apiKey: 'key_a', webhookKeys: ['key_a'] });
    const c = loadConfig({ ...base, RETELL_WEBHOOK_KEYS: 'key_webhook_new, key_webhook_old' });
    expect(c.retell).toMatchObject({ apiKey: 'key_a', webhookKeys: ['key_webhook_new', 'key_webhook_old'] });
    expect(Object.isFrozen(c.retell)).toBe(true);
  });

  it('keeps a rotated RETELL_API_KEY list working when no webhook keys are set', () => {
    const c = loadConfig({ ...base, RETELL_API_KEY: 'new_key, old_key' });
    expect(c.retell).toMatchObject({ apiKey: 'new_key', webhookKeys: ['new_key', 'old_key'] });
  });

  it('refuses a RETELL_API_KEY list next to RETELL_WEBHOOK_KEYS, naming the variable', () => {
    expect(problems({ ...base, RETELL_API_KEY: 'a, b', RETELL_WEBHOOK_KEYS: 'w' })).toEqual([
      'RETELL_API_KEY: must be one key when RETELL_WEBHOOK_KEYS is set (list the webhook keys there)',
    ]);
    expect(problems({ ...base, RETELL_WEBHOOK_KEYS: ' , ' })[0]).toMatch(
      /^RETELL_WEBHOOK_KEYS: must contain at least one value/,
    );
  });

  it('has a retention policy with documented defaults, rows kept at least as long as payloads', () => {
    expect(loadConfig(base).worker.retention).toEqual({ payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90 });
    expect(problems({ ...base, RETENTION_DAYS: '60', EVENT_ROWS_RETENTION_DAYS: '30' })).toEqual([
      'EVENT_ROWS_RETENTION_DAYS: must be at least RETENTION_DAYS (60)',
    ]);
    expect(problems({ ...base, SESSION_PII_RETENTION_DAYS: '0' })[0]).toMatch(/^SESSION_PII_RETENTION_DAYS:/);
  });

  it('drains the ingress for SHUTDOWN_DRAIN_MS', () => {
    expect(loadConfig(base).ingress.shutdownDrainMs).toBe(5000);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN_MS: '0' }).ingress.shutdownDrainMs).toBe(0);
    expect(problems({ ...base, SHUTDOWN_DRAIN_MS: '-1' })[0]).toMatch(/^SHUTDOWN_DRAIN_MS:/);
  });

  it('rejects a queue prefix without a hash tag', () => {
    expect(problems({ ...base, QUEUE_PREFIX: 'callsync' })[0]).toMatch(/^QUEUE_PREFIX: must be a Redis hash tag/);
  });
});
