import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createDashboardApp } from '@callsync/dashboard';
import { useTestDatabase } from './support/database';
import { startPipeline, type Pipeline } from './support/pipeline';

/** Every dashboard URL the README and docs/ name answers; a path the dashboard does not serve gets a page with a link home. */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline(t.db);
});
afterAll(() => p.close());

const app = () => createDashboardApp({ queues: [p.queue], db: t.db, auth: AUTH });

/** The dashboard paths the README and docs/ give, e.g. `http://<host>:3001/console` and `/console/agents`. */
function readmeDashboardPaths(): string[] {
  const root = join(__dirname, '..');
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'));
  const readme = ['README.md', ...docs.map((f) => join('docs', f))]
    .map((f) => readFileSync(join(root, f), 'utf8'))
    .join('\n');
  const paths = new Set<string>();
  for (const m of readme.matchAll(/`http:\/\/<host>:3001(\/[^`\s]*)`/g)) paths.add(m[1]!);
  for (const m of readme.matchAll(/`(\/console[^`\s<]*)`/g)) paths.add(m[1]!);
  return [...paths].filter((p) => !p.endsWith('/'));
}

describe('dashboard paths', () => {
  it('answers every path the README and docs/ name, following redirects', async () => {
    const paths = readmeDashboardPaths();
    expect(paths).toEqual(expect.arrayContaining(['/console', '/admin/queues', '/console/agents']));
    for (const path of paths) {
      let res = await request(app()).get(path).auth(AUTH.user, AUTH.password);
      for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 3; hops++)
        res = await request(app()).get(String(res.headers.location)).auth(AUTH.user, AUTH.password);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it('gives an unknown path a 404 page that links home and escapes the path', async () => {
    const res = await request(app()).get('/console/nope<b>').auth(AUTH.user, AUTH.password);
    expect(res.status).toBe(404);
    expect(res.text).toContain('href="/console/calls"');
    expect(res.text).not.toContain('Cannot GET');
    expect(res.text).not.toContain('<b>');
  });

  it('asks for credentials before saying what does not exist', async () => {
    const res = await request(app()).get('/no-such-page');
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('Not found');
  });
});
