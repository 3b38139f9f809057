import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useTestDatabase } from './support/database';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { assertBuilt, CLI, freePort, INGRESS, ROOT, run, WORKER, type Proc } from './support/processes';

/*
 * CALLSYNC_SECRET_KEY comes from the environment only. A process that needs it (ingress, worker,
 * make migrate, make destinations add) does not start without it, naming the variable; a malformed
 * key is named without being printed. `make up` (scripts/local-env.sh) makes a local one.
 */
const t = useTestDatabase();
beforeAll(() => assertBuilt());

/** Its exit code, or 'still running' (then stopped) if it has not exited within `ms`. */
async function exitOf(p: Proc, ms = 20_000): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  const r = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (r === 'still running') {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  return r;
}

async function env(extra: Record<string, string>): Promise<Record<string, string>> {
  return {
    DATABASE_URL: t.url,
    REDIS_URL: serviceUrls().redisUrl,
    QUEUE_PREFIX: `{callsync-nokey-${process.pid}}`,
    RETELL_API_KEY: TEST_API_KEY,
    RETELL_API_BASE_URL: 'http://127.0.0.1:9',
    PORT: String(await freePort()),
    INGRESS_METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
    NODE_ENV: 'production',
    ...extra,
  };
}

const starts: [string, string, string[]][] = [
  ['the ingress', INGRESS, []],
  ['the worker', WORKER, []],
  ['make migrate', CLI, ['migrate']],
  ['make destinations add', CLI, ['destinations', 'add', 'https://crm.example.com/hook', '--events', 'call_ended']],
];

describe('a production start without CALLSYNC_SECRET_KEY', () => {
  it.each(starts)('is refused by %s, naming the variable', async (_what, script, args) => {
    const p = run(script, await env({ CALLSYNC_SECRET_KEY: '' }), args);
    expect({ exit: await exitOf(p), output: p.output() }).toEqual({
      exit: 1,
      output: expect.stringContaining('CALLSYNC_SECRET_KEY is required but not set'),
    });
  });

  it('adds no destination when refused', async () => {
    const p = run(CLI, await env({ CALLSYNC_SECRET_KEY: '' }), starts[3]![2]);
    expect(await exitOf(p)).toBe(1);
    expect(await t.db.selectFrom('forward_destinations').select('id').execute()).toEqual([]);
  });

  it('refuses a malformed key, naming the variable and not printing the value', async () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    const p = run(INGRESS, await env({ CALLSYNC_SECRET_KEY: short }));
    expect(await exitOf(p)).toBe(1);
    expect(p.output()).toMatch(/CALLSYNC_SECRET_KEY: must be 32 random bytes/);
    expect(p.output()).not.toContain(short);
  });
});

describe("make up's local key (scripts/local-env.sh)", () => {
  const exec = promisify(execFile);
  const keyOf = async (dataDir: string, given?: string) =>
    (
      await exec('bash', ['-c', '. scripts/local-env.sh && printf %s "$CALLSYNC_SECRET_KEY"'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          CALLSYNC_DATA_DIR: dataDir,
          // The user's own services: local-env.sh decides nothing about local ones.
          DATABASE_URL: 'postgres://u@127.0.0.1:1/x',
          REDIS_URL: 'redis://127.0.0.1:1',
          ...(given ? { CALLSYNC_SECRET_KEY: given } : {}),
        },
      })
    ).stdout;

  it('is made once under the data directory, readable only by its owner, and the environment wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callsync-key-'));
    try {
      const key = await keyOf(dir);
      expect(Buffer.from(key, 'base64')).toHaveLength(32);
      expect(statSync(join(dir, 'secret-key')).mode & 0o077).toBe(0);
      expect(await keyOf(dir)).toBe(key);
      const own = 'ab'.repeat(32);
      expect(await keyOf(dir, own)).toBe(own);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
