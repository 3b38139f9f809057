import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive().finite();

/** Comma-separated list of non-empty strings ("a, b" -> ["a", "b"]). */
const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(z.string()).min(1, 'must contain at least one value'));

const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

/**
 * A 32-byte key as 64 hex characters, or base64 / base64url (43 characters, or 44 with its `=`), to
 * hex; undefined when it is neither. Never echoes the value: errors name only the variable.
 */
function secretKeyHex(text: string): string | undefined {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) return undefined;
  const bytes = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

const SECRET_KEY_FORMAT = 'must be 32 random bytes as 64 hex characters or base64 (make one: openssl rand -base64 32)';

const secretKey = z.string().transform((s, ctx) => {
  const hex = secretKeyHex(s);
  if (hex === undefined) {
    ctx.addIssue({ code: 'custom', message: SECRET_KEY_FORMAT });
    return z.NEVER;
  }
  return hex;
});

/** Comma-separated keys, each as CALLSYNC_SECRET_KEY; an error says which entry, not what it holds. */
const secretKeyList = csv.transform((keys, ctx) => {
  const out: string[] = [];
  for (const [i, k] of keys.entries()) {
    const hex = secretKeyHex(k);
    if (hex === undefined) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: ${SECRET_KEY_FORMAT}` });
      return z.NEVER;
    }
    out.push(hex);
  }
  return out;
});

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** "5s,5m,30m,2h" -> milliseconds each; every entry a number with a unit (ms, s, m, h, d). */
const durationList = z.string().transform((s, ctx) => {
  const out: number[] = [];
  for (const part of s.split(',').map((p) => p.trim())) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration such as 5s, 5m, 2h` });
      return z.NEVER;
    }
    out.push(Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2]!]!));
  }
  return out;
});

/**
 * The environment contract (the table in docs/configuration.md). Every variable is read here and nowhere else.
 * Defaults are the documented ones; connection URLs have no default on purpose:
 * the local scripts (`scripts/local-env.sh`) provide them for `make up` and `make test`.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),

    DATABASE_URL: url(['postgres:', 'postgresql:']),
    /** Max pg pool size per process. Default 10. */
    DATABASE_POOL_SIZE: positiveInt.default(10),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    /** "host:port,host:port" of a Redis Cluster; wins over REDIS_URL when set. */
    REDIS_CLUSTER_NODES: csv.optional(),
    /** Prefix of every BullMQ key. The {hash tag} keeps a queue's keys in one cluster slot. */
    QUEUE_PREFIX: z
      .string()
      .regex(/^\{[^{}]+\}$/, 'must be a Redis hash tag such as {callsync}')
      .default('{callsync}'),

    /**
     * The key callsync calls Retell's API with. Also verifies webhooks when RETELL_WEBHOOK_KEYS is
     * unset; only then may it be a comma-separated list (rotation), and the API uses its first key.
     */
    RETELL_API_KEY: csv,
    /**
     * Keys that verify X-Retell-Signature: Retell signs with the key that has the webhook badge, which
     * need not be the API key. Comma-separated during rotation. Default: RETELL_API_KEY.
     */
    RETELL_WEBHOOK_KEYS: csv.optional(),
    RETELL_API_BASE_URL: url(['http:', 'https:']).default('https://api.retellai.com'),

    PORT: port.default(3000),
    /**
     * Port of the live process (apps/ingress live-main.js): the inbound webhook, custom functions and
     * the context API, at the ingress's paths, away from webhook load. Default 3002.
     */
    LIVE_PORT: port.default(3002),
    /** Port of the live process's /metrics. 0 picks a free port. Default 9467. */
    LIVE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9467),
    /** Postgres connections of the live process's pool (docs/operating.md: connection budget). Default 6. */
    LIVE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(6),
    /** Port of the ingress's /metrics, a listener of its own (never the public webhook port). 0 picks a free port. Default 9465. */
    INGRESS_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
    /**
     * On SIGTERM the ingress answers /readyz with 503 at once and keeps serving for this long, so a
     * load balancer stops sending before it closes. Default 5000; 0 closes at once.
     */
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
    /** Largest accepted webhook body. Default 5 MB: a long call's full transcript must fit. */
    MAX_BODY_BYTES: positiveInt.default(5 * 1024 * 1024),
    /**
     * Body bytes of requests whose signature is not verified yet, across the ingress process; over
     * it a request is answered 503 before its body is read. Default 32 MiB, which with the ingress's
     * own ~100 MB keeps a flood of forged bodies under its 150 MB budget.
     */
    MAX_UNVERIFIED_BYTES: positiveInt.default(32 * 1024 * 1024),
    /** A request's body must have arrived within this, else 408 and the connection closed. Default 5000 ms. */
    BODY_READ_TIMEOUT_MS: positiveInt.default(5000),
    /** Bearer tokens for GET /api/calls/:call_id/context (comma-separated). Unset: that API is off. */
    CALLSYNC_API_TOKENS: csv.optional(),
    /** Allowed distance of the signature timestamp from now, either way. Default 5 minutes (Retell's own). */
    SIGNATURE_TOLERANCE_MS: positiveInt.default(5 * 60 * 1000),

    /**
     * The key that protects personal data and secrets at rest (docs/secret-key.md): caller_hash is an
     * HMAC under it, destination signing secrets are encrypted with it. Never stored in Postgres.
     * No default: the ingress, the worker and the commands that need it refuse to start without it
     * (`make up` makes a local one in .local/secret-key).
     */
    CALLSYNC_SECRET_KEY: secretKey.optional(),
    /**
     * Older keys (comma-separated) after a rotation: hashes made under them still match, and secrets
     * encrypted with them still decrypt until `make migrate` re-encrypts them.
     */
    CALLSYNC_SECRET_KEY_PREVIOUS: secretKeyList.optional(),

    DASHBOARD_PORT: port.default(3001),
    DASHBOARD_USER: z.string().min(1).default('admin'),
    DASHBOARD_PASSWORD: z.string().min(1).optional(),

    /** Port of a worker's /metrics, /healthz and /readyz. 0 picks a free port (several workers on one host). Default 9464. */
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /** Jobs in flight per worker process. Default 16. */
    WORKER_CONCURRENCY: positiveInt.default(16),
    /** Tries per event before its row is marked failed. Default 5. */
    JOB_ATTEMPTS: positiveInt.default(5),
    /** First retry delay; doubles on each further try. Default 1000 ms. */
    JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(1000),

    /** A worker stops within this on SIGTERM; unfinished jobs are then taken over by another worker. Default 15000. */
    WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
    /** How often the outbox sweeper runs. Default 30 s. */
    SWEEP_EVERY_SECONDS: positiveNumber.default(30),
    /** Rows pending longer than this without a live job are re-enqueued. Default 60 s. */
    SWEEP_PENDING_AFTER_SECONDS: positiveNumber.default(60),

    /** Applied events older than this lose their payload and raw body (rows stay for reports). Default 30. */
    RETENTION_DAYS: positiveNumber.default(30),
    /**
     * Whole webhook_events rows older than this are deleted (applied ones, and failed ones nobody
     * replayed; pending rows never). Redeliveries older than this are no longer recognised as such.
     * Default 180; at least RETENTION_DAYS.
     */
    EVENT_ROWS_RETENTION_DAYS: positiveNumber.default(180),
    /**
     * Sessions and chats that ended longer ago than this (or started longer ago and never ended) lose
     * their caller data: numbers, transcript, recording URL, summary and analysis, metadata, dynamic and
     * collected variables, transfers; so do function calls' args and results and transfer events'
     * destinations. The caller's number is kept only as a hash keyed with CALLSYNC_SECRET_KEY
     * (returning callers still count). Default 90.
     */
    SESSION_PII_RETENTION_DAYS: positiveNumber.default(90),
    /**
     * Failed events (not replayed) lose their payload, raw body and signature after this; they can no
     * longer be replayed. Default 14; at most EVENT_ROWS_RETENTION_DAYS.
     */
    FAILED_EVENT_RETENTION_DAYS: positiveNumber.default(14),

    /** Deliveries to forwarding destinations in flight per worker process. Default 16. */
    FORWARD_CONCURRENCY: positiveInt.default(16),
    /** One forwarding attempt's limit, connect to last byte read. Default 10000 ms. */
    FORWARD_TIMEOUT_MS: positiveInt.default(10_000),
    /**
     * Delay after each failed forwarding attempt; one more attempt than entries. Default
     * "5s,5m,30m,2h,5h,10h,10h" (about a day). A receiver's retry-after can lengthen a delay.
     */
    FORWARD_RETRY_SCHEDULE: durationList.default([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]),
    /**
     * A destination's circuit breaker waits this long before its one probe delivery; each failed
     * probe doubles it, up to 1 h. Default 30000 ms.
     */
    FORWARD_BREAKER_COOLDOWN_MS: positiveInt.default(30_000),

    /** in_progress sessions older than this are asked about. Fractions allowed (0.5 = 30 s). Default 5. */
    STALE_AFTER_MINUTES: positiveNumber.default(5),
    /** Interval of the scheduled pass. Fractions allowed. Default 5. */
    RECONCILE_EVERY_MINUTES: positiveNumber.default(5),
    /** Finished sessions without analysis for this long get it fetched. Default 30. */
    RECONCILE_ANALYSIS_AFTER_MINUTES: positiveNumber.default(30),
    /** Not-found answers (or checks without analysis) before a session is no longer polled. Default 3. */
    RECONCILE_MAX_TRIES: positiveInt.default(3),
    /** get-call requests in flight per process. Default 8. */
    RETELL_API_CONCURRENCY: positiveInt.default(8),
    /** Timeout of one Retell API request. Default 10000 ms. */
    RETELL_API_TIMEOUT_MS: positiveInt.default(10_000),

    /**
     * callsync's own notifications (no Prometheus needed): a Slack-compatible incoming webhook that
     * gets `{"text": ...}` when an alert condition starts and ends, and the daily summary. Its path is
     * a secret: only its host is ever logged.
     */
    ALERT_WEBHOOK_URL: url(['http:', 'https:']).optional(),
    /**
     * The same by mail: smtp://user:password@host:587 (STARTTLS when offered) or smtps://...:465.
     * Needs ALERT_EMAIL_TO. The password is never logged.
     */
    ALERT_SMTP_URL: url(['smtp:', 'smtps:']).optional(),
    /** Who gets the alert mails (comma-separated addresses). */
    ALERT_EMAIL_TO: csv.optional(),
    /** The alert mails' sender. Default callsync@localhost (many SMTP servers want a real one). */
    ALERT_EMAIL_FROM: z.string().min(3).default('callsync@localhost'),
    /** How often the alert conditions are checked. Default 60 s. */
    ALERT_CHECK_EVERY_SECONDS: positiveNumber.default(60),
    /**
     * A condition must have been clear this long before its end is told, so one that flaps sends one
     * start and one end, not a pair per check. Default 300 s.
     */
    ALERT_CLEAR_AFTER_SECONDS: z.coerce.number().min(0).finite().default(300),
    /** Hour of the day (UTC) from which the daily health summary goes out. Default 7. */
    ALERT_SUMMARY_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(7),
  })
  .superRefine((env, ctx) => {
    if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required (or set REDIS_CLUSTER_NODES)' });
    }
    if (env.RETELL_WEBHOOK_KEYS && env.RETELL_API_KEY.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETELL_API_KEY'],
        message: 'must be one key when RETELL_WEBHOOK_KEYS is set (list the webhook keys there)',
      });
    }
    if (env.CALLSYNC_SECRET_KEY_PREVIOUS && !env.CALLSYNC_SECRET_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['CALLSYNC_SECRET_KEY'],
        message:
          'is required when CALLSYNC_SECRET_KEY_PREVIOUS is set (the new key goes there, the old ones stay listed)',
      });
    }
    if (env.ALERT_SMTP_URL && !env.ALERT_EMAIL_TO) {
      ctx.addIssue({ code: 'custom', path: ['ALERT_EMAIL_TO'], message: 'is required when ALERT_SMTP_URL is set' });
    }
    if (env.ALERT_EMAIL_TO && !env.ALERT_SMTP_URL) {
      ctx.addIssue({ code: 'custom', path: ['ALERT_SMTP_URL'], message: 'is required when ALERT_EMAIL_TO is set' });
    }
    if (env.EVENT_ROWS_RETENTION_DAYS < env.RETENTION_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['EVENT_ROWS_RETENTION_DAYS'],
        message: `must be at least RETENTION_DAYS (${env.RETENTION_DAYS})`,
      });
    }
    if (env.FAILED_EVENT_RETENTION_DAYS > env.EVENT_ROWS_RETENTION_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAILED_EVENT_RETENTION_DAYS'],
        message: `must be at most EVENT_ROWS_RETENTION_DAYS (${env.EVENT_ROWS_RETENTION_DAYS})`,
      });
    }
  });

export type Env = z.infer<typeof envSchema>;
