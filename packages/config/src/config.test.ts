import { ConfigError, loadConfig, requireSecretKey } from './index';

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
    expect(c.ingress.maxUnverifiedBytes).toBe(32 * 1024 * 1024);
    expect(c.ingress.bodyTimeoutMs).toBe(5000);
    expect(c.reconcile).toEqual({ staleAfterMinutes: 5, everyMinutes: 5, analysisAfterMinutes: 30, maxTries: 3 });
    expect(loadConfig({ ...base, RECONCILE_EVERY_MINUTES: '0.05' }).reconcile.everyMinutes).toBe(0.05);
    expect(loadConfig({ ...base, RECONCILE_INTERVAL: '3s' }).reconcile.everyMinutes).toBe(0.05);
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
    expect(loadConfig(base).worker.retention).toEqual({
      payloadDays: 30,
      eventRowDays: 180,
      sessionPiiDays: 90,
      failedPayloadDays: 14,
    });
    expect(problems({ ...base, PAYLOAD_RETENTION: '60d', EVENT_ROWS_RETENTION: '30d' })).toEqual([
      'EVENT_ROWS_RETENTION: must be at least PAYLOAD_RETENTION (60d)',
    ]);
    // The names the operator set, older ones included.
    expect(problems({ ...base, RETENTION_DAYS: '60', EVENT_ROWS_RETENTION_DAYS: '30' })).toEqual([
      'EVENT_ROWS_RETENTION_DAYS: must be at least RETENTION_DAYS (60d)',
    ]);
    expect(problems({ ...base, FAILED_EVENT_RETENTION: '200d' })).toEqual([
      'FAILED_EVENT_RETENTION: must be at most EVENT_ROWS_RETENTION (180d)',
    ]);
    expect(problems({ ...base, SESSION_PII_RETENTION_DAYS: '0' })[0]).toMatch(/^SESSION_PII_RETENTION_DAYS:/);
  });

  it('drains the ingress for SHUTDOWN_DRAIN (or SHUTDOWN_DRAIN_MS)', () => {
    expect(loadConfig(base).ingress.shutdownDrainMs).toBe(5000);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN_MS: '0' }).ingress.shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN: '0' }).ingress.shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN: '2.5s' }).ingress.shutdownDrainMs).toBe(2500);
    expect(problems({ ...base, SHUTDOWN_DRAIN_MS: '-1' })[0]).toMatch(/^SHUTDOWN_DRAIN_MS:/);
    expect(problems({ ...base, SHUTDOWN_DRAIN: '2m' })).toEqual(['SHUTDOWN_DRAIN: must be at most 1m']);
  });

  it('reads CALLSYNC_SECRET_KEY as 32 bytes in hex, base64 or base64url, and the previous keys after it', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 250));
    const hex = bytes.toString('hex');
    for (const text of [hex, hex.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')])
      expect(loadConfig({ ...base, CALLSYNC_SECRET_KEY: text }).secretKey).toEqual({ current: hex, previous: [] });
    const older = Buffer.alloc(32, 9);
    const c = loadConfig({
      ...base,
      CALLSYNC_SECRET_KEY: hex,
      CALLSYNC_SECRET_KEY_PREVIOUS: `${older.toString('base64')}, ${'ab'.repeat(32)}`,
    });
    expect(c.secretKey).toEqual({ current: hex, previous: [older.toString('hex'), 'ab'.repeat(32)] });
    expect(Object.isFrozen(c.secretKey)).toBe(true);
    expect(loadConfig(base).secretKey).toBeUndefined();
  });

  it('names a malformed secret key without printing it', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    const [p] = problems({ ...base, CALLSYNC_SECRET_KEY: short });
    expect(p).toMatch(/^CALLSYNC_SECRET_KEY: must be 32 random bytes/);
    expect(p).not.toContain(short);
    expect(
      problems({
        ...base,
        CALLSYNC_SECRET_KEY: 'a'.repeat(64),
        CALLSYNC_SECRET_KEY_PREVIOUS: 'a'.repeat(64) + ',nope',
      })[0],
    ).toMatch(/^CALLSYNC_SECRET_KEY_PREVIOUS: entry 2: must be 32 random bytes/);
    expect(problems({ ...base, CALLSYNC_SECRET_KEY_PREVIOUS: 'a'.repeat(64) })).toEqual([
      'CALLSYNC_SECRET_KEY: is required when CALLSYNC_SECRET_KEY_PREVIOUS is set (the new key goes there, the old ones stay listed)',
    ]);
  });

  it('refuses to go on without a secret key where one is needed, naming the variable', () => {
    expect(() => requireSecretKey(loadConfig(base))).toThrow(ConfigError);
    expect(() => requireSecretKey(loadConfig(base))).toThrow(/CALLSYNC_SECRET_KEY is required but not set/);
    expect(requireSecretKey(loadConfig({ ...base, CALLSYNC_SECRET_KEY: 'cd'.repeat(32) })).current).toBe(
      'cd'.repeat(32),
    );
  });

  it('rejects a queue prefix without a hash tag', () => {
    expect(problems({ ...base, QUEUE_PREFIX: 'callsync' })[0]).toMatch(/^QUEUE_PREFIX: must be a Redis hash tag/);
  });
});
