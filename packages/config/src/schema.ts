import { z } from 'zod';
import { duration, durationList } from './duration';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive().finite();
/** A /metrics port: 0 picks a free one. */
const metricsPort = z.coerce.number().int().min(0).max(65535);

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

/*
 * The environment contract (the table in docs/configuration.md), grouped by the part of the Config
 * it builds: a process validates only the groups it uses (sections.ts). Every variable is read here
 * and nowhere else. Connection URLs have no default on purpose: the local scripts
 * (`scripts/local-env.sh`) provide them for `make up` and `make test`.
 *
 * Durations take one format (duration.ts) and have no unit in their name; their defaults, and the
 * older names with a unit they replace (still accepted, with a warning), are in renamed.ts. Those
 * older names keep their old validation here.
 */

export const baseVariables = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
};

export const databaseVariables = {
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  /** Max pg pool size per process. Default 10. */
  DATABASE_POOL_SIZE: positiveInt.default(10),
};

export const redisVariables = {
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** "host:port,host:port" of a Redis Cluster; wins over REDIS_URL when set. */
  REDIS_CLUSTER_NODES: csv.optional(),
  /** Prefix of every BullMQ key. The {hash tag} keeps a queue's keys in one cluster slot. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^\{[^{}]+\}$/, 'must be a Redis hash tag such as {callsync}')
    .default('{callsync}'),
};

/** The keys that verify X-Retell-Signature (the ingress and the live process need no more of Retell). */
export const webhookVariables = {
  /**
   * The key callsync calls Retell's API with. Also verifies webhooks when RETELL_WEBHOOK_KEYS is
   * unset; only then may it be a comma-separated list (rotation), and the API uses its first key.
   * Required where Retell's API is called (sections.ts says where).
   */
  RETELL_API_KEY: csv.optional(),
  /**
   * Keys that verify X-Retell-Signature: Retell signs with the key that has the webhook badge, which
   * need not be the API key. Comma-separated during rotation. Default: RETELL_API_KEY.
   */
  RETELL_WEBHOOK_KEYS: csv.optional(),
};

export const retellVariables = {
  ...webhookVariables,
  RETELL_API_BASE_URL: url(['http:', 'https:']).default('https://api.retellai.com'),
  /** get-call requests in flight per process. Default 8. */
  RETELL_API_CONCURRENCY: positiveInt.default(8),
  /** Timeout of one Retell API request. Default 10s. */
  RETELL_API_TIMEOUT: duration().optional(),
  RETELL_API_TIMEOUT_MS: positiveInt.optional(),
};

export const ingressVariables = {
  PORT: port.default(3000),
  /** Port of the ingress's /metrics, a listener of its own (never the public webhook port). 0 picks a free port. Default 9465. */
  INGRESS_METRICS_PORT: metricsPort.default(9465),
  /**
   * On SIGTERM the ingress answers /readyz with 503 at once and keeps serving for this long, so a
   * load balancer stops sending before it closes. Default 5s; 0 closes at once.
   */
  SHUTDOWN_DRAIN: duration({ min: 0, max: 60_000 }).optional(),
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  /** Largest accepted webhook body. Default 5 MB: a long call's full transcript must fit. */
  MAX_BODY_BYTES: positiveInt.default(5 * 1024 * 1024),
  /**
   * Body bytes of requests whose signature is not verified yet, across the ingress process; over
   * it a request is answered 503 before its body is read. Default 32 MiB, which with the ingress's
   * own ~100 MB keeps a flood of forged bodies under its 150 MB budget.
   */
  MAX_UNVERIFIED_BYTES: positiveInt.default(32 * 1024 * 1024),
  /** A request's body must have arrived within this, else 408 and the connection closed. Default 5s. */
  BODY_READ_TIMEOUT: duration().optional(),
  BODY_READ_TIMEOUT_MS: positiveInt.optional(),
  /** Bearer tokens for GET /api/calls/:call_id/context (comma-separated). Unset: that API is off. */
  CALLSYNC_API_TOKENS: csv.optional(),
  /** Allowed distance of the signature timestamp from now, either way. Default 5m (Retell's own). */
  SIGNATURE_TOLERANCE: duration().optional(),
  SIGNATURE_TOLERANCE_MS: positiveInt.optional(),
};

export const liveVariables = {
  /**
   * Port of the live process (apps/ingress live-main.js): the inbound webhook, custom functions and
   * the context API, at the ingress's paths, away from webhook load. Default 3002.
   */
  LIVE_PORT: port.default(3002),
  /** Port of the live process's /metrics. 0 picks a free port. Default 9467. */
  LIVE_METRICS_PORT: metricsPort.default(9467),
  /** Postgres connections of the live process's pool (docs/operating.md: connection budget). Default 6. */
  LIVE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(6),
};

export const secretKeyVariables = {
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
};

export const dashboardVariables = {
  DASHBOARD_PORT: port.default(3001),
  DASHBOARD_USER: z.string().min(1).default('admin'),
  DASHBOARD_PASSWORD: z.string().min(1).optional(),
};

/** How the webhook queue's jobs retry: whoever adds them (ingress, dashboard, worker) sets this. */
export const jobVariables = {
  /** Tries per event before its row is marked failed. Default 5. */
  JOB_ATTEMPTS: positiveInt.default(5),
  /** First retry delay; doubles on each further try. Default 1s. */
  JOB_BACKOFF: duration({ min: 0 }).optional(),
  JOB_BACKOFF_MS: z.coerce.number().int().min(0).optional(),
};

export const workerVariables = {
  ...jobVariables,
  /** Port of a worker's /metrics, /healthz and /readyz. 0 picks a free port (several workers on one host). Default 9464. */
  WORKER_METRICS_PORT: metricsPort.default(9464),
  /** Jobs in flight per worker process. Default 16. */
  WORKER_CONCURRENCY: positiveInt.default(16),
  /** A worker stops within this on SIGTERM; unfinished jobs are then taken over by another worker. Default 15s. */
  WORKER_SHUTDOWN_TIMEOUT: duration().optional(),
  WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt.optional(),
  /** How often the outbox sweeper runs. Default 30s. */
  SWEEP_INTERVAL: duration().optional(),
  SWEEP_EVERY_SECONDS: positiveNumber.optional(),
  /** Rows pending longer than this without a live job are re-enqueued. Default 60s. */
  SWEEP_PENDING_AFTER: duration().optional(),
  SWEEP_PENDING_AFTER_SECONDS: positiveNumber.optional(),

  /** Applied events older than this lose their payload and raw body (rows stay for reports). Default 30d. */
  PAYLOAD_RETENTION: duration().optional(),
  RETENTION_DAYS: positiveNumber.optional(),
  /**
   * Whole webhook_events rows older than this are deleted (applied ones, and failed ones nobody
   * replayed; pending rows never). Redeliveries older than this are no longer recognised as such.
   * Default 180d; at least PAYLOAD_RETENTION.
   */
  EVENT_ROWS_RETENTION: duration().optional(),
  EVENT_ROWS_RETENTION_DAYS: positiveNumber.optional(),
  /**
   * Sessions and chats that ended longer ago than this (or started longer ago and never ended) lose
   * their caller data: numbers, transcript, recording URL, summary and analysis, metadata, dynamic and
   * collected variables, transfers; so do function calls' args and results and transfer events'
   * destinations. The caller's number is kept only as a hash keyed with CALLSYNC_SECRET_KEY
   * (returning callers still count). Default 90d.
   */
  SESSION_PII_RETENTION: duration().optional(),
  SESSION_PII_RETENTION_DAYS: positiveNumber.optional(),
  /**
   * Failed events (not replayed) lose their payload, raw body and signature after this; they can no
   * longer be replayed. Default 14d; at most EVENT_ROWS_RETENTION.
   */
  FAILED_EVENT_RETENTION: duration().optional(),
  FAILED_EVENT_RETENTION_DAYS: positiveNumber.optional(),
};

export const forwardingVariables = {
  /** Deliveries to forwarding destinations in flight per worker process. Default 16. */
  FORWARD_CONCURRENCY: positiveInt.default(16),
  /** One forwarding attempt's limit, connect to last byte read. Default 10s. */
  FORWARD_TIMEOUT: duration().optional(),
  FORWARD_TIMEOUT_MS: positiveInt.optional(),
  /**
   * Delay after each failed forwarding attempt; one more attempt than entries. Default
   * "5s,5m,30m,2h,5h,10h,10h" (about a day). A receiver's retry-after can lengthen a delay.
   */
  FORWARD_RETRY_SCHEDULE: durationList.default([
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
  ]),
  /**
   * A destination's circuit breaker waits this long before its one probe delivery; each failed
   * probe doubles it, up to 1 h. Default 30s.
   */
  FORWARD_BREAKER_COOLDOWN: duration().optional(),
  FORWARD_BREAKER_COOLDOWN_MS: positiveInt.optional(),
};

export const reconcileVariables = {
  /** in_progress sessions older than this are asked about. Default 5m. */
  STALE_AFTER: duration().optional(),
  STALE_AFTER_MINUTES: positiveNumber.optional(),
  /** Interval of the scheduled pass. Default 5m. */
  RECONCILE_INTERVAL: duration().optional(),
  RECONCILE_EVERY_MINUTES: positiveNumber.optional(),
  /** Finished sessions without analysis for this long get it fetched. Default 30m. */
  RECONCILE_ANALYSIS_AFTER: duration().optional(),
  RECONCILE_ANALYSIS_AFTER_MINUTES: positiveNumber.optional(),
  /** Not-found answers (or checks without analysis) before a session is no longer polled. Default 3. */
  RECONCILE_MAX_TRIES: positiveInt.default(3),
};

export const alertVariables = {
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
  /** How often the alert conditions are checked. Default 60s. */
  ALERT_CHECK_INTERVAL: duration().optional(),
  ALERT_CHECK_EVERY_SECONDS: positiveNumber.optional(),
  /**
   * A condition must have been clear this long before its end is told, so one that flaps sends one
   * start and one end, not a pair per check. Default 5m.
   */
  ALERT_CLEAR_AFTER: duration({ min: 0 }).optional(),
  ALERT_CLEAR_AFTER_SECONDS: z.coerce.number().min(0).finite().optional(),
  /** Hour of the day (UTC) from which the daily health summary goes out. Default 7. */
  ALERT_SUMMARY_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(7),
};

/** Every variable callsync reads, new names and the older ones they replace. */
export const envSchema = z.object({
  ...baseVariables,
  ...databaseVariables,
  ...redisVariables,
  ...retellVariables,
  ...ingressVariables,
  ...liveVariables,
  ...secretKeyVariables,
  ...dashboardVariables,
  ...workerVariables,
  ...forwardingVariables,
  ...reconcileVariables,
  ...alertVariables,
});
