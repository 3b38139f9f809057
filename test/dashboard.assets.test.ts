import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createDashboardApp } from '@callsync/dashboard';
import { useTestDatabase } from './support/database';
import { startPipeline, type Pipeline } from './support/pipeline';

/**
 * The console's stylesheets and scripts are files in apps/dashboard/assets: served with their type
 * and a cache lifetime, and kept in the image (the Dockerfile removes only apps/*\/src).
 */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
const ROOT = join(__dirname, '..');
const ASSETS = join(ROOT, 'apps/dashboard/assets');
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline(t.db, { worker: false });
});
afterAll(() => p.close());

it('serves every file in apps/dashboard/assets, and uPlot from its package, with type and cache lifetime', async () => {
  const app = createDashboardApp({ queues: [p.queue], db: t.db, auth: AUTH });
  const files = readdirSync(ASSETS);
  expect(files).toEqual(expect.arrayContaining(['console.css', 'charts.js', 'agents.css', 'agents.js']));
  for (const name of [...files, 'uPlot.min.css', 'uPlot.iife.min.js']) {
    const res = await request(app).get(`/console/assets/${name}`).auth(AUTH.user, AUTH.password);
    const type = name.endsWith('.css') ? 'text/css' : 'text/javascript';
    expect({ name, status: res.status, type: res.type }).toEqual({ name, status: 200, type });
    expect(res.headers['cache-control']).toMatch(/^max-age=\d+$/);
    if (!name.startsWith('uPlot')) expect(res.text).toBe(readFileSync(join(ASSETS, name), 'utf8'));
  }
});

it('ships the assets in the image: the build copies apps/ and removes only sources', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^COPY apps apps$/m);
  // Every path an `rm -rf` of the build names, continuation lines joined.
  const removed = [...dockerfile.replace(/\\\n/g, ' ').matchAll(/rm -rf ([^&\n]+)/g)].flatMap((m) =>
    m[1]!.trim().split(/\s+/),
  );
  expect(removed).toContain('apps/*/src');
  // Nothing removed is the assets folder or one holding it.
  expect(removed.filter((path) => /^apps(\/(\*|dashboard)(\/assets)?)?\/?$/.test(path))).toEqual([]);
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  expect(ignored.filter((line) => /assets/.test(line))).toEqual([]);
});
