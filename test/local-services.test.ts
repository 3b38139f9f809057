import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { sign } from 'retell-sdk';
import { findWebhookEvents } from '@callsync/db/events';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, deleteQueueKeys, freePort, ROOT, until } from './support/processes';

/** scripts/services.sh and `make up` (scripts/up.sh) as a user runs them, with their own ports and data directory. */
const t = useTestDatabase();
const dirs: string[] = [];
beforeAll(() => assertBuilt());
afterAll(async () => {
  for (const d of dirs) {
    // Wherever services.sh had to put their data (a directory Postgres cannot reach moves to /var/tmp).
    await script('services.sh', ['destroy'], { CALLSYNC_DATA_DIR: d }).exited;
    rmSync(d, { recursive: true, force: true });
  }
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'callsync-services-'));
  dirs.push(d);
  return d;
}

function script(file: string, args: string[], env: Record<string, string>) {
  const child = spawn(join(ROOT, 'scripts', file), args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('a local port that is already taken', () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    port = await freePort();
    server = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });
  afterEach(() => new Promise((r) => server.close(r)));

  it.each([
    ['Postgres', 'start-postgres', 'LOCAL_PG_PORT', /pg\/server\.log/],
    ['Redis', 'start-redis', 'LOCAL_REDIS_PORT', /redis\/redis\.log/],
  ])(
    '%s: the error names the port, what holds it, the log file and how to choose another',
    async (what, command, variable, logFile) => {
      const dir = dataDir();
      const p = script('services.sh', [command], { CALLSYNC_DATA_DIR: dir, [variable]: String(port) });
      expect(await p.exited).toBe(1);
      const out = p.output();
      expect(out).toContain(`cannot start ${what}: port ${port} on 127.0.0.1 is already taken by`);
      // This test process holds it.
      expect(out).toContain(`(pid ${process.pid})`);
      expect(out).toMatch(new RegExp(`log file: \\S*${logFile.source}`));
      expect(out).toContain(`choose another port: ${variable}=${port + 1} make up`);
      // Nothing was set up on the side.
      expect(existsSync(join(dir, 'redis', 'redis.pid'))).toBe(false);
      expect(existsSync(join(dir, 'pg', 'PG_VERSION'))).toBe(false);
    },
  );
});

describe('the local Postgres', () => {
  it('requires its password on TCP: any local user can reach 127.0.0.1', async () => {
    const dir = dataDir();
    const port = await freePort();
    const p = script('services.sh', ['start-postgres'], { CALLSYNC_DATA_DIR: dir, LOCAL_PG_PORT: String(port) });
    expect(await p.exited).toBe(0);
    const password = readFileSync(join(dir, 'pg-password'), 'utf8').trim();
    expect(statSync(join(dir, 'pg-password')).mode & 0o077).toBe(0);
    const connect = async (pw: string) => {
      const c = new Client({ host: '127.0.0.1', port, user: 'callsync', database: 'callsync', password: pw });
      try {
        await c.connect();
        return (await c.query<{ one: number }>('select 1 as one')).rows[0]!.one;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    await expect(connect('guessed')).rejects.toMatchObject({ code: '28P01' });
    expect(await connect(password)).toBe(1);
  });

  it('refuses a /var/tmp data path it did not make itself (a symlink planted there)', async () => {
    const dir = dataDir(); // 0700 under /tmp: out of the postgres user's reach, so /var/tmp is used
    const planted = `/var/tmp/callsync-${createHash('sha1').update(dir).digest('hex').slice(0, 12)}`;
    const target = mkdtempSync(join(tmpdir(), 'callsync-target-'));
    dirs.push(target);
    symlinkSync(target, planted);
    try {
      const p = script('services.sh', ['start-postgres'], {
        CALLSYNC_DATA_DIR: dir,
        LOCAL_PG_PORT: String(await freePort()),
      });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`refusing ${planted}: it is not a directory owned by root`);
      expect(readdirSync(target)).toEqual([]);
    } finally {
      rmSync(planted, { force: true });
    }
  });
});

describe('make up with your own Postgres and Redis', () => {
  it('uses DATABASE_URL and REDIS_URL and starts no local Postgres or Redis', async () => {
    const dir = dataDir();
    const [port, dashboardPort, localPg, localRedis] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const prefix = `{callsync-up-${process.pid}}`;
    const up = script('up.sh', [], {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      CALLSYNC_DATA_DIR: dir,
      LOCAL_PG_PORT: String(localPg),
      LOCAL_REDIS_PORT: String(localRedis),
      PORT: String(port),
      DASHBOARD_PORT: String(dashboardPort),
      WORKER_METRICS_PORT: '0',
      INGRESS_METRICS_PORT: '0',
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      RETELL_API_BASE_URL: 'http://127.0.0.1:9',
    });
    try {
      await until(
        'the ingress to be ready',
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
        60_000,
      );
      await until(
        'the dashboard to be up',
        async () => ((await fetch(`http://127.0.0.1:${dashboardPort}/healthz`)).ok ? true : undefined),
        60_000,
      );
      // The system runs on the given database: a delivery ends up processed there.
      const callId = newCallId('external');
      const payload = body('call_started', { callId });
      const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
        body: payload,
      });
      expect(res.status).toBe(200);
      await until(
        'the worker to apply it',
        async () => ((await findWebhookEvents(t.db, callId))[0]?.status === 'processed' ? true : undefined),
        30_000,
      );

      expect(await listening(localPg)).toBe(false);
      expect(await listening(localRedis)).toBe(false);
      expect(readdirSync(dir).filter((f) => f === 'pg' || f === 'redis')).toEqual([]);
      expect(up.output()).toContain('no local Postgres started');
      expect(up.output()).toContain('no local Redis started');
    } finally {
      process.kill(-up.child.pid!, 'SIGINT');
      const code = await up.exited;
      // On failure, what make up printed is the first thing to read.
      expect({ code, output: code === 0 ? '' : up.output() }).toEqual({ code: 0, output: '' });
      await deleteQueueKeys(serviceUrls().redisUrl, prefix);
    }
  }, 120_000);
});
