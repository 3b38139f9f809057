import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database, Db } from '@callsync/db';

/*
 * A Postgres pool that counts what a process asks of it: every statement sent (pg's client.query,
 * so a transaction's BEGIN and COMMIT count too), how long each waited for a connection (pool.connect)
 * and how long each ran once it had one. What the live process's time goes to under load, and the
 * round trips a test can count on one answer's path.
 */

export interface PoolFigures {
  statements: number;
  /** Waits for a connection, ms: p50, p99, max, and how many waited at all (over 1 ms). */
  wait: { p50: number; p99: number; max: number; waited: number; count: number };
  /** Statements from send to result, ms. */
  exec: { p50: number; p99: number; max: number };
  /** How many of each statement, by its first words: what the pool was asked for. */
  kinds: Record<string, number>;
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;

const round = (ms: number) => Math.round(ms * 10) / 10;

export class PoolProbe {
  /** The text of every statement sent, in order (reset by `take`). */
  sent: string[] = [];
  private waits: number[] = [];
  private execs: number[] = [];

  constructor(readonly pool: pg.Pool) {
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    pool.connect = (async () => {
      const began = performance.now();
      const client = await connect();
      this.waits.push(performance.now() - began);
      return client;
    }) as typeof pool.connect;
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
      client.query = ((...args: unknown[]) => {
        const first = args[0];
        this.sent.push(typeof first === 'string' ? first : ((first as { text?: string }).text ?? ''));
        const began = performance.now();
        const result = query(...args);
        void Promise.resolve(result).then(
          () => this.execs.push(performance.now() - began),
          () => this.execs.push(performance.now() - began),
        );
        return result;
      }) as typeof client.query;
    });
  }

  /** The figures since the last `take`, and a fresh start. */
  take(): PoolFigures {
    const waits = [...this.waits].sort((a, b) => a - b);
    const execs = [...this.execs].sort((a, b) => a - b);
    const figures = {
      statements: this.sent.length,
      wait: {
        p50: round(pct(waits, 50)),
        p99: round(pct(waits, 99)),
        max: round(waits.at(-1) ?? 0),
        waited: waits.filter((w) => w > 1).length,
        count: waits.length,
      },
      exec: { p50: round(pct(execs, 50)), p99: round(pct(execs, 99)), max: round(execs.at(-1) ?? 0) },
      kinds: {} as Record<string, number>,
    };
    for (const text of this.sent) {
      const kind = text.replace(/\s+/g, ' ').trim().slice(0, 60);
      figures.kinds[kind] = (figures.kinds[kind] ?? 0) + 1;
    }
    this.sent = [];
    this.waits = [];
    this.execs = [];
    return figures;
  }
}

/** A Db on a pool of `poolSize` whose statements the returned probe counts and times. */
export function probedDb(
  url: string,
  poolSize: number,
  applicationName = 'callsync-probe',
): { db: Db; probe: PoolProbe } {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 1000,
    application_name: applicationName,
  });
  pool.on('error', () => undefined);
  const probe = new PoolProbe(pool);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), probe };
}
