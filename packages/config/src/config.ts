export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly logLevel: string;
  /**
   * Said once at start-up by the process's logger (config logs nothing itself): each older variable
   * name in use, and the new variable that replaces it.
   */
  readonly warnings: readonly string[];
  readonly database: { readonly url: string; readonly poolSize: number };
  readonly redis: {
    readonly url?: string;
    readonly clusterNodes?: readonly { host: string; port: number }[];
    readonly prefix: string;
  };
  readonly retell: {
    /** Calls Retell's API. */
    readonly apiKey: string;
    /** Verify X-Retell-Signature; any may match. The same as webhooks.keys. */
    readonly webhookKeys: readonly string[];
    readonly apiBaseUrl: string;
    readonly apiConcurrency: number;
    readonly apiTimeoutMs: number;
  };
  /** What verifies X-Retell-Signature: the ingress and the live process need no more of Retell. */
  readonly webhooks: { readonly keys: readonly string[] };
  /** How webhook jobs retry, for every process that adds them (JOB_ATTEMPTS, JOB_BACKOFF). */
  readonly jobs: { readonly attempts: number; readonly backoffMs: number };
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
