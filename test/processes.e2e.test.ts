import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sign } from 'retell-sdk';
import { findCallSession } from '@callsync/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';

/**
 * The built ingress and worker as separate OS processes, configured only through the environment,
 * exactly as `make up` and the containers run them.
 */
const ROOT = join(__dirname, '..');
const INGRESS = join(ROOT, 'apps/ingress/dist/main.js');
const WORKER = join(ROOT, 'apps/worker/dist/main.js');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let t: TestDatabase;
const prefix = `{callsync-e2e-${process.pid}}`;
beforeAll(async () => {
  if (!existsSync(INGRESS) || !existsSync(WORKER)) throw new Error('build first: `make test` runs `tsc -b` before the tests');
  t = await createTestDatabase();
});
afterAll(async () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await t.drop();
});

describe('ingress and worker processes', () => {
  it('take a signed delivery from HTTP to a processed row, log JSON without phone numbers or secrets, and stop cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, QUEUE_PREFIX: prefix, RETELL_API_KEY: `${TEST_API_KEY},key_rotated_out`, PORT: String(port), NODE_ENV: 'production' };
    const ingress = run(INGRESS, env);
    const worker = run(WORKER, env);
    try {
      const url = `http://127.0.0.1:${port}`;
      await until('ingress /readyz', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
      const callId = newCallId('e2e');
      for (const event of ['call_started', 'call_ended'] as const) {
        const payload = body(event, { callId });
        const res = await fetch(`${url}/api/webhooks/retell`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) }, body: payload });
        expect(res.status).toBe(200);
      }
      const session = await until('the session to end', async () => {
        const s = await findCallSession(t.db, callId);
        return s?.call_status === 'ended' ? s : undefined;
      });
      expect(session).toMatchObject({ from_number: '+491604366218', disconnection_reason: 'user_hangup' });
      const statuses = await t.db.selectFrom('webhook_events').select('status').where('event_id', '=', callId).execute();
      expect(statuses.map((s) => s.status)).toEqual(['processed', 'processed']);

      ingress.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      expect(await ingress.exited).toBe(0);
      expect(await worker.exited).toBe(0);

      const logs = ingress.output() + worker.output();
      const lines = logs.trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(logs).toContain(callId);
      expect(logs).not.toContain('+491604366218');
      expect(logs).not.toContain(TEST_API_KEY);
      expect(logs).not.toMatch(/v=\d{13},d=/);
    } finally {
      ingress.child.kill('SIGKILL');
      worker.child.kill('SIGKILL');
    }
  });

  it('refuse to start on a bad variable, naming it', async () => {
    const p = run(INGRESS, { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, RETELL_API_KEY: TEST_API_KEY, PORT: 'eighty' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/Invalid configuration:\n\s+- PORT: /);
    const w = run(WORKER, { REDIS_URL: serviceUrls().redisUrl, RETELL_API_KEY: TEST_API_KEY });
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain('DATABASE_URL is required but not set');
  });
});
