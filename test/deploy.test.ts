import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@callsync/config';
import {
  DASHBOARD_SHUTDOWN_BOUND_MS,
  ingressShutdownBoundMs,
  INGRESS_NODE_FLAGS,
  workerShutdownBoundMs,
} from '@callsync/runtime';

/** The container set-up, checked without a Docker engine (none runs on this machine). */
const ROOT = join(__dirname, '..');
const exec = promisify(execFile);

async function validate(file: string): Promise<{ code: number; output: string }> {
  try {
    const r = await exec(join(ROOT, 'scripts/validate-compose.sh'), [file]);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('docker-compose.yml', () => {
  it('validates against the compose schema', async () => {
    // The exit code is the verdict; what the tools print is not asserted.
    const r = await validate(join(ROOT, 'docker-compose.yml'));
    expect(r.code).toBe(0);
  }, 120_000);

  it('would catch a broken file (the check is real)', async () => {
    const broken = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').replace(
      'condition: service_completed_successfully',
      'condition: when_ready',
    );
    const file = join(mkdtempSync(join(tmpdir(), 'compose-')), 'docker-compose.yml');
    writeFileSync(file, broken);
    const r = await validate(file);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/condition/);
  }, 120_000);

  it('gives each process a stop grace period longer than its own shutdown bound (with the defaults)', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const defaults = loadConfig({ DATABASE_URL: 'postgres://x@h/d', REDIS_URL: 'redis://h', RETELL_API_KEY: 'k' });
    const bounds: Record<string, number> = {
      ingress: ingressShutdownBoundMs(defaults.ingress.shutdownDrainMs),
      worker: workerShutdownBoundMs(defaults.worker.shutdownTimeoutMs),
      dashboard: DASHBOARD_SHUTDOWN_BOUND_MS,
    };
    for (const [service, boundMs] of Object.entries(bounds)) {
      const start = text.indexOf(`\n  ${service}:\n`);
      const block = text.slice(start + 1).split(/\n {2}[a-z]+:\n|\nvolumes:/)[0]!;
      const grace = /^\s+stop_grace_period: (\d+)s$/m.exec(block);
      expect({ service, grace: grace?.[1] }).toEqual({ service, grace: expect.any(String) });
      expect(Number(grace![1]) * 1000).toBeGreaterThan(boundMs);
    }
  });

  it("sets Postgres's max_connections to cover the documented budget (1 ingress, 17 workers)", () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const max = Number(/max_connections=(\d+)/.exec(text)?.[1]);
    const pool = loadConfig({ DATABASE_URL: 'postgres://x@h/d', REDIS_URL: 'redis://h', RETELL_API_KEY: 'k' }).database
      .poolSize;
    const ingress = pool + 1; // its pool and its metrics pool
    const reserve = 15;
    expect(max).toBeGreaterThanOrEqual(1 * ingress + 17 * pool + 1 + reserve);
  });

  it('lets workers scale: no published port or fixed name on the worker service', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const worker = text.slice(text.indexOf('\n  worker:'), text.indexOf('\n  dashboard:'));
    expect(worker).not.toMatch(/^\s+ports:/m);
    expect(worker).not.toMatch(/container_name/);
    expect(worker).toMatch(/condition: service_completed_successfully/);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('builds ingress, worker and dashboard targets, each with a healthcheck, as a non-root user, with production dependencies only', () => {
    for (const target of ['ingress', 'worker', 'dashboard']) {
      const stage = text.slice(text.indexOf(`AS ${target}\n`)).split(/\nFROM /)[0]!;
      expect(stage).toMatch(/HEALTHCHECK .*CMD/s);
      const flags = target === 'ingress' ? INGRESS_NODE_FLAGS.map((f) => `"${f}", `).join('') : '';
      expect(stage).toContain(`CMD ["node", ${flags}"apps/${target}/dist/main.js"]`);
    }
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/FROM node:20-bookworm-slim AS runtime[\s\S]*USER node/);
  });
});
