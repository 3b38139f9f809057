import { envSchema } from './schema';

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly logLevel: string;
  readonly database: { readonly url: string; readonly poolSize: number };
  readonly redis: {
    readonly url?: string;
    readonly clusterNodes?: readonly { host: string; port: number }[];
    readonly prefix: string;
  };
  readonly retell: {
    /** Calls Retell's API. */
    readonly apiKey: string;
    /** Verify X-Retell-Signature; any may match. */
    readonly webhookKeys: readonly string[];
    readonly apiBaseUrl: string;
    readonly apiConcurrency: number;
    readonly apiTimeoutMs: number;
  };
  readonly ingress: {
    readonly port: number;
    readonly metricsPort: number;
    readonly maxBodyBytes: number;
    readonly maxUnverifiedBytes: number;
    readonly bodyTimeoutMs: number;
    readonly signatureToleranceMs: number;
    /** CALLSYNC_API_TOKENS: bearer tokens of the context API; empty: the API answers 404. */
    readonly apiTokens: readonly string[];
    readonly shutdownDrainMs: number;
  };
  /** The live process: inbound answers, custom functions, the context API. */
  readonly live: { readonly port: number; readonly metricsPort: number; readonly poolSize: number };
  readonly dashboard: { readonly port: number; readonly user: string; readonly password?: string };
  readonly worker: {
    readonly concurrency: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly shutdownTimeoutMs: number;
    readonly sweepEveryMs: number;
    readonly sweepPendingAfterMs: number;
    readonly metricsPort: number;
    readonly retention: RetentionPolicy;
  };
  readonly forwarding: {
    readonly concurrency: number;
    readonly timeoutMs: number;
    /** Delay after the 1st, 2nd, ... failed attempt, in ms. */
    readonly retrySchedule: readonly number[];
    /** The circuit breaker's first cool-down before its probe, in ms (doubling up to 1 h). */
    readonly breakerCooldownMs: number;
  };
  /**
   * CALLSYNC_SECRET_KEY and CALLSYNC_SECRET_KEY_PREVIOUS, as hex; undefined when unset. Processes
   * that use it take it through requireSecretKey, which refuses to go on without one.
   */
  readonly secretKey?: SecretKeyMaterial;
  /** callsync's own notifications; no channel set: none are checked. */
  readonly alerts: {
    /** ALERT_WEBHOOK_URL: a secret (its path is the token). */
    readonly webhookUrl?: string;
    /** ALERT_SMTP_URL: may hold a password. */
    readonly smtpUrl?: string;
    readonly emailTo: readonly string[];
    readonly emailFrom: string;
    readonly checkEveryMs: number;
    readonly clearAfterMs: number;
    readonly summaryHourUtc: number;
  };
  readonly reconcile: {
    readonly staleAfterMinutes: number;
    readonly everyMinutes: number;
    readonly analysisAfterMinutes: number;
    readonly maxTries: number;
  };
}

/** The secret key and the keys it replaced, 32 bytes each as 64 hex characters. */
export interface SecretKeyMaterial {
  readonly current: string;
  /** Older keys, newest first: what was made under them still matches or decrypts. */
  readonly previous: readonly string[];
}

/** How long callsync keeps what, in days (see the retention variables in docs/configuration.md). */
export interface RetentionPolicy {
  /** Applied events' payload, raw body and signature. */
  readonly payloadDays: number;
  /** Whole webhook_events rows (not pending ones) and reconcile_runs. */
  readonly eventRowDays: number;
  /**
   * A caller's data on sessions and chats (numbers, transcript, recording, summary and analysis,
   * metadata, variables, transfers), function calls' args and results, and transfer destinations;
   * sessions that never ended count from their start.
   */
  readonly sessionPiiDays: number;
  /** Failed events' payload, raw body and signature (they can no longer be replayed). */
  readonly failedPayloadDays: number;
}

/** Start-up failure that names every bad variable; the process should print it and exit. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`,
    );
    this.name = 'ConfigError';
  }
}

function parseHostPort(entry: string): { host: string; port: number } {
  const i = entry.lastIndexOf(':');
  const port = Number(entry.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError([`REDIS_CLUSTER_NODES: "${entry}" is not host:port`]);
  }
  return { host: entry.slice(0, i), port };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parse the environment once into a frozen, typed object. Throws ConfigError naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset, as shells and .env files commonly produce them.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? 'environment');
        return env[name] === undefined && i.code === 'invalid_type'
          ? `${name} is required but not set`
          : `${name}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: {
      url: e.REDIS_URL,
      clusterNodes: e.REDIS_CLUSTER_NODES?.map(parseHostPort),
      prefix: e.QUEUE_PREFIX,
    },
    retell: {
      apiKey: e.RETELL_API_KEY[0]!,
      webhookKeys: e.RETELL_WEBHOOK_KEYS ?? e.RETELL_API_KEY,
      apiBaseUrl: e.RETELL_API_BASE_URL.replace(/\/+$/, ''),
      apiConcurrency: e.RETELL_API_CONCURRENCY,
      apiTimeoutMs: e.RETELL_API_TIMEOUT_MS,
    },
    ingress: {
      port: e.PORT,
      metricsPort: e.INGRESS_METRICS_PORT,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxUnverifiedBytes: e.MAX_UNVERIFIED_BYTES,
      bodyTimeoutMs: e.BODY_READ_TIMEOUT_MS,
      signatureToleranceMs: e.SIGNATURE_TOLERANCE_MS,
      apiTokens: e.CALLSYNC_API_TOKENS ?? [],
      shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    },
    live: { port: e.LIVE_PORT, metricsPort: e.LIVE_METRICS_PORT, poolSize: e.LIVE_POOL_SIZE },
    dashboard: { port: e.DASHBOARD_PORT, user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      shutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS,
      sweepEveryMs: e.SWEEP_EVERY_SECONDS * 1000,
      sweepPendingAfterMs: e.SWEEP_PENDING_AFTER_SECONDS * 1000,
      metricsPort: e.WORKER_METRICS_PORT,
      retention: {
        payloadDays: e.RETENTION_DAYS,
        eventRowDays: e.EVENT_ROWS_RETENTION_DAYS,
        sessionPiiDays: e.SESSION_PII_RETENTION_DAYS,
        failedPayloadDays: e.FAILED_EVENT_RETENTION_DAYS,
      },
    },
    forwarding: {
      concurrency: e.FORWARD_CONCURRENCY,
      timeoutMs: e.FORWARD_TIMEOUT_MS,
      retrySchedule: e.FORWARD_RETRY_SCHEDULE,
      breakerCooldownMs: e.FORWARD_BREAKER_COOLDOWN_MS,
    },
    secretKey: e.CALLSYNC_SECRET_KEY
      ? { current: e.CALLSYNC_SECRET_KEY, previous: e.CALLSYNC_SECRET_KEY_PREVIOUS ?? [] }
      : undefined,
    alerts: {
      webhookUrl: e.ALERT_WEBHOOK_URL,
      smtpUrl: e.ALERT_SMTP_URL,
      emailTo: e.ALERT_EMAIL_TO ?? [],
      emailFrom: e.ALERT_EMAIL_FROM,
      checkEveryMs: e.ALERT_CHECK_EVERY_SECONDS * 1000,
      clearAfterMs: e.ALERT_CLEAR_AFTER_SECONDS * 1000,
      summaryHourUtc: e.ALERT_SUMMARY_HOUR_UTC,
    },
    reconcile: {
      staleAfterMinutes: e.STALE_AFTER_MINUTES,
      everyMinutes: e.RECONCILE_EVERY_MINUTES,
      analysisAfterMinutes: e.RECONCILE_ANALYSIS_AFTER_MINUTES,
      maxTries: e.RECONCILE_MAX_TRIES,
    },
  });
}

/**
 * The secret key, for a process that hashes callers or reads destination secrets (the ingress, the
 * worker, `make migrate`, `make destinations`). Without it such a process must not start, in any
 * NODE_ENV: hashes made without the key could not be checked later, and secrets could not be read.
 */
export function requireSecretKey(config: Pick<Config, 'secretKey'>): SecretKeyMaterial {
  if (config.secretKey) return config.secretKey;
  throw new ConfigError([
    'CALLSYNC_SECRET_KEY is required but not set: 32 random bytes as base64 or hex (openssl rand -base64 32), ' +
      'the same for every callsync process and never stored in the database (docs/secret-key.md). ' +
      '`make up` makes a local one in .local/secret-key.',
  ]);
}

/**
 * The environment for a child process that callsync starts (chaos runs, the local-services
 * script): only PATH is passed through, plus `extra`, so children are configured explicitly.
 */
export function childEnvironment(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...extra };
}
