import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childEnvironment } from '@callsync/config';
import { freePort } from './ports';

const exec = promisify(execFile);

/**
 * An independent Postgres + Redis pair (own data directory, own ports) started through
 * scripts/services.sh, so chaos runs can stop and restart them without touching anything else.
 */
export class LocalServices {
  /** CALLSYNC_SECRET_KEY of the processes run against these services (hex), one per instance. */
  readonly secretKey = randomBytes(32).toString('hex');

  private constructor(
    private readonly root: string,
    readonly dataDir: string,
    readonly pgPort: number,
    readonly redisPort: number,
  ) {}

  static async create(root: string, name: string): Promise<LocalServices> {
    // Unique per instance: two runs in one process must never share a database.
    const dataDir = join(root, '.local', 'isolated', `${name}-${process.pid}-${randomUUID().slice(0, 8)}`);
    return new LocalServices(root, dataDir, await freePort(), await freePort());
  }

  /** Valid once start() ran: the password is made then (scripts/local-env.sh). */
  get databaseUrl(): string {
    const password = readFileSync(join(this.dataDir, 'pg-password'), 'utf8').trim();
    return `postgres://callsync:${encodeURIComponent(password)}@127.0.0.1:${this.pgPort}/callsync`;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  private async services(command: string): Promise<void> {
    await exec(join(this.root, 'scripts', 'services.sh'), [command], {
      env: childEnvironment({
        CALLSYNC_DATA_DIR: this.dataDir,
        LOCAL_PG_PORT: String(this.pgPort),
        LOCAL_REDIS_PORT: String(this.redisPort),
      }),
    });
  }

  start = () => this.services('start');
  stopPostgres = () => this.services('stop-postgres');
  /** Immediate stop: no checkpoint, unflushed commits lost, crash recovery on the next start. */
  crashPostgres = () => this.services('crash-postgres');
  startPostgres = () => this.services('start-postgres');
  stopRedis = () => this.services('stop-redis');
  startRedis = () => this.services('start-redis');

  /**
   * The environment of a callsync process (ingress, worker) run against these services: production
   * logging, any free port for each worker's /metrics, no shutdown drain, and reconciliation out of the way (its Retell
   * is unreachable). `extra` adds or overrides.
   */
  processEnv(apiKey: string, ingressPort: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      RETELL_API_KEY: apiKey,
      CALLSYNC_SECRET_KEY: this.secretKey,
      RETELL_API_BASE_URL: 'http://127.0.0.1:9',
      PORT: String(ingressPort),
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: '0',
      INGRESS_METRICS_PORT: '0',
      STALE_AFTER_MINUTES: '100000',
      RECONCILE_ANALYSIS_AFTER_MINUTES: '100000',
      RECONCILE_EVERY_MINUTES: '60',
      // No load balancer in front to drain from.
      SHUTDOWN_DRAIN_MS: '0',
      // Retention must not rewrite what a run checks afterwards (sample calls may carry old timestamps).
      SESSION_PII_RETENTION_DAYS: '36500',
      ...extra,
    };
  }

  /** Stop both and delete their data (wherever services.sh had to put it). */
  async destroy(): Promise<void> {
    await this.services('destroy').catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
