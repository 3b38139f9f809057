import type { z } from 'zod';
import type { Config } from './config';
import { formatDuration } from './duration';
import { DURATION_SETTINGS, type DurationName } from './renamed';
import {
  alertVariables,
  dashboardVariables,
  databaseVariables,
  forwardingVariables,
  ingressVariables,
  jobVariables,
  liveVariables,
  reconcileVariables,
  redisVariables,
  retellVariables,
  secretKeyVariables,
  webhookVariables,
  workerVariables,
} from './schema';

/** What a section's builder may ask while it turns parsed variables into its part of the Config. */
export interface BuildContext {
  /** A duration setting in ms: its new name, else its older one (warned about), else the default. */
  duration(name: DurationName): number;
  /** The name a duration setting was given by (the older one when only that is set), for messages. */
  nameOf(name: DurationName): string;
  /** A problem the ConfigError lists; the Config is not returned then. */
  problem(text: string): void;
}

export type SectionName = Exclude<keyof Config, 'env' | 'logLevel' | 'warnings'>;

interface Section<T> {
  readonly variables: z.ZodRawShape;
  build(env: Record<string, unknown>, context: BuildContext): T;
}

/** A section over its own variables; the loader parses them (with others) before build is called. */
function section<S extends z.ZodRawShape, T>(
  variables: S,
  build: (env: z.output<z.ZodObject<S>>, context: BuildContext) => T,
): Section<T> {
  return { variables, build: (env, context) => build(env as z.output<z.ZodObject<S>>, context) };
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function hostPort(entry: string, c: BuildContext): { host: string; port: number } {
  const i = entry.lastIndexOf(':');
  const port = Number(entry.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    c.problem(`REDIS_CLUSTER_NODES: "${entry}" is not host:port`);
  }
  return { host: entry.slice(0, i), port };
}

/** Rows are kept at least as long as payloads, and failed payloads no longer than rows. */
function checkRetention(c: BuildContext): void {
  const [payload, rows, failed] = [
    c.duration('PAYLOAD_RETENTION'),
    c.duration('EVENT_ROWS_RETENTION'),
    c.duration('FAILED_EVENT_RETENTION'),
  ];
  const [payloadName, rowsName, failedName] = [
    c.nameOf('PAYLOAD_RETENTION'),
    c.nameOf('EVENT_ROWS_RETENTION'),
    c.nameOf('FAILED_EVENT_RETENTION'),
  ];
  if (rows < payload) c.problem(`${rowsName}: must be at least ${payloadName} (${formatDuration(payload)})`);
  if (failed > rows) c.problem(`${failedName}: must be at most ${rowsName} (${formatDuration(rows)})`);
}

/** Every part of the Config, with the variables it is built from and the checks across them. */
export const SECTIONS: { readonly [K in SectionName]-?: Section<Config[K]> } = {
  database: section(databaseVariables, (e) => ({ url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE })),
  redis: section(redisVariables, (e, c) => {
    if (!e.REDIS_URL && !e.REDIS_CLUSTER_NODES) c.problem('REDIS_URL: is required (or set REDIS_CLUSTER_NODES)');
    return {
      url: e.REDIS_URL,
      clusterNodes: e.REDIS_CLUSTER_NODES?.map((entry) => hostPort(entry, c)),
      prefix: e.QUEUE_PREFIX,
    };
  }),
  retell: section(retellVariables, (e, c) => {
    if (!e.RETELL_API_KEY) c.problem('RETELL_API_KEY is required but not set');
    else if (e.RETELL_WEBHOOK_KEYS && e.RETELL_API_KEY.length > 1) {
      c.problem('RETELL_API_KEY: must be one key when RETELL_WEBHOOK_KEYS is set (list the webhook keys there)');
    }
    return {
      apiKey: e.RETELL_API_KEY?.[0] ?? '',
      webhookKeys: e.RETELL_WEBHOOK_KEYS ?? e.RETELL_API_KEY ?? [],
      apiBaseUrl: e.RETELL_API_BASE_URL.replace(/\/+$/, ''),
      apiConcurrency: e.RETELL_API_CONCURRENCY,
      apiTimeoutMs: c.duration('RETELL_API_TIMEOUT'),
    };
  }),
  webhooks: section(webhookVariables, (e, c) => {
    const keys = e.RETELL_WEBHOOK_KEYS ?? e.RETELL_API_KEY;
    if (!keys) {
      c.problem('RETELL_WEBHOOK_KEYS is required but not set (or RETELL_API_KEY, whose keys then verify webhooks)');
    }
    return { keys: keys ?? [] };
  }),
  ingress: section(ingressVariables, (e, c) => ({
    port: e.PORT,
    metricsPort: e.INGRESS_METRICS_PORT,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxUnverifiedBytes: e.MAX_UNVERIFIED_BYTES,
    bodyTimeoutMs: c.duration('BODY_READ_TIMEOUT'),
    signatureToleranceMs: c.duration('SIGNATURE_TOLERANCE'),
    apiTokens: e.CALLSYNC_API_TOKENS ?? [],
    shutdownDrainMs: c.duration('SHUTDOWN_DRAIN'),
  })),
  live: section(liveVariables, (e) => ({
    port: e.LIVE_PORT,
    metricsPort: e.LIVE_METRICS_PORT,
    poolSize: e.LIVE_POOL_SIZE,
  })),
  dashboard: section(dashboardVariables, (e) => ({
    port: e.DASHBOARD_PORT,
    user: e.DASHBOARD_USER,
    password: e.DASHBOARD_PASSWORD,
  })),
  secretKey: section(secretKeyVariables, (e, c) => {
    if (e.CALLSYNC_SECRET_KEY_PREVIOUS && !e.CALLSYNC_SECRET_KEY) {
      c.problem(
        'CALLSYNC_SECRET_KEY: is required when CALLSYNC_SECRET_KEY_PREVIOUS is set (the new key goes there, the old ones stay listed)',
      );
    }
    return e.CALLSYNC_SECRET_KEY
      ? { current: e.CALLSYNC_SECRET_KEY, previous: e.CALLSYNC_SECRET_KEY_PREVIOUS ?? [] }
      : undefined;
  }),
  jobs: section(jobVariables, (e, c) => ({ attempts: e.JOB_ATTEMPTS, backoffMs: c.duration('JOB_BACKOFF') })),
  worker: section(workerVariables, (e, c) => {
    checkRetention(c);
    return {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: c.duration('JOB_BACKOFF'),
      shutdownTimeoutMs: c.duration('WORKER_SHUTDOWN_TIMEOUT'),
      sweepEveryMs: c.duration('SWEEP_INTERVAL'),
      sweepPendingAfterMs: c.duration('SWEEP_PENDING_AFTER'),
      metricsPort: e.WORKER_METRICS_PORT,
      retention: {
        payloadDays: c.duration('PAYLOAD_RETENTION') / DAY_MS,
        eventRowDays: c.duration('EVENT_ROWS_RETENTION') / DAY_MS,
        sessionPiiDays: c.duration('SESSION_PII_RETENTION') / DAY_MS,
        failedPayloadDays: c.duration('FAILED_EVENT_RETENTION') / DAY_MS,
      },
    };
  }),
  forwarding: section(forwardingVariables, (e, c) => ({
    concurrency: e.FORWARD_CONCURRENCY,
    timeoutMs: c.duration('FORWARD_TIMEOUT'),
    retrySchedule: e.FORWARD_RETRY_SCHEDULE,
    breakerCooldownMs: c.duration('FORWARD_BREAKER_COOLDOWN'),
  })),
  alerts: section(alertVariables, (e, c) => {
    if (e.ALERT_SMTP_URL && !e.ALERT_EMAIL_TO) c.problem('ALERT_EMAIL_TO: is required when ALERT_SMTP_URL is set');
    if (e.ALERT_EMAIL_TO && !e.ALERT_SMTP_URL) c.problem('ALERT_SMTP_URL: is required when ALERT_EMAIL_TO is set');
    return {
      webhookUrl: e.ALERT_WEBHOOK_URL,
      smtpUrl: e.ALERT_SMTP_URL,
      emailTo: e.ALERT_EMAIL_TO ?? [],
      emailFrom: e.ALERT_EMAIL_FROM,
      checkEveryMs: c.duration('ALERT_CHECK_INTERVAL'),
      clearAfterMs: c.duration('ALERT_CLEAR_AFTER'),
      summaryHourUtc: e.ALERT_SUMMARY_HOUR_UTC,
    };
  }),
  reconcile: section(reconcileVariables, (e, c) => ({
    staleAfterMinutes: c.duration('STALE_AFTER') / MINUTE_MS,
    everyMinutes: c.duration('RECONCILE_INTERVAL') / MINUTE_MS,
    analysisAfterMinutes: c.duration('RECONCILE_ANALYSIS_AFTER') / MINUTE_MS,
    maxTries: e.RECONCILE_MAX_TRIES,
  })),
};

/** Every section: the CLI's commands (and loadConfig) take the whole Config. */
export const ALL_SECTIONS = Object.keys(SECTIONS) as SectionName[];

/**
 * The sections each process reads, and so validates: a variable outside them is neither required
 * nor checked there (the dashboard starts without RETELL_API_KEY and without worker settings).
 */
export const PROCESS_SECTIONS = {
  ingress: ['database', 'redis', 'secretKey', 'webhooks', 'jobs', 'ingress', 'reconcile'],
  live: ['database', 'secretKey', 'webhooks', 'ingress', 'live'],
  worker: ['database', 'redis', 'secretKey', 'retell', 'worker', 'forwarding', 'alerts', 'reconcile'],
  dashboard: ['database', 'redis', 'jobs', 'dashboard'],
  /** The CLI's commands that work on callsync's own data (migrate, stats, replay, destinations, ...): no Retell. */
  cli: ['database', 'redis', 'secretKey', 'jobs', 'worker', 'forwarding', 'reconcile'],
} as const satisfies Record<string, readonly SectionName[]>;

export type ProcessName = keyof typeof PROCESS_SECTIONS;

/** `nameOf` for a BuildContext: the new name when set or when the older one is not. */
export function nameInUse(env: Readonly<Record<string, unknown>>, name: DurationName): string {
  const { old } = DURATION_SETTINGS[name];
  return env[name] === undefined && env[old] !== undefined ? old : name;
}
