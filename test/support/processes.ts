import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INGRESS_NODE_FLAGS, waitUntil } from '@callsync/runtime';
import { TEST_SECRET_KEY } from './env';

/** The built entry points, run as real OS processes configured only through the environment. */
export const ROOT = join(__dirname, '..', '..');
export const INGRESS = join(ROOT, 'apps/ingress/dist/main.js');
export const WORKER = join(ROOT, 'apps/worker/dist/main.js');
export const CLI = join(ROOT, 'apps/cli/dist/main.js');
export const DASHBOARD = join(ROOT, 'apps/dashboard/dist/main.js');

export function assertBuilt(): void {
  for (const f of [INGRESS, WORKER, CLI, DASHBOARD]) {
    if (!existsSync(f))
      throw new Error(`${f} is missing: build first (\`make test\` runs \`tsc -b\` before the tests)`);
  }
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Run a built entry point with `env` (and PATH); CALLSYNC_SECRET_KEY is the tests' unless `env` sets it. */
export function run(script: string, env: Record<string, string>, args: string[] = []): Proc {
  const child = spawn(process.execPath, [...(script === INGRESS ? INGRESS_NODE_FLAGS : []), script, ...args], {
    env: { PATH: process.env.PATH ?? '', CALLSYNC_SECRET_KEY: TEST_SECRET_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export { freePort } from '@callsync/testkit';

/** Poll fn until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  // An error (a service restarting, a process not listening yet) counts as "not yet".
  const v = await waitUntil(() => fn().catch(() => undefined), { timeoutMs });
  if (v === undefined) throw new Error(`timed out waiting for ${what}`);
  return v;
}

/** Delete every key under a queue prefix (tests that run processes with their own prefix). */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
