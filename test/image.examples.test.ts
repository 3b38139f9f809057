import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertBuilt } from './support/processes';

/**
 * examples/ in the production image only while a registered function needs it: the Dockerfile's
 * step (scripts/image-examples.sh) run on a tree laid out as the image's build stage has it, with
 * the ingress as tsc really builds it (no Docker engine runs here).
 */
const ROOT = join(__dirname, '..');
const exec = promisify(execFile);
const dirs: string[] = [];

/** A build stage's /app after `tsc -b` and `npm prune`, with the given built functions.js. */
function buildStage(functionsJs: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-examples-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'apps/ingress/dist'), { recursive: true });
  writeFileSync(join(dir, 'apps/ingress/dist/functions.js'), functionsJs);
  mkdirSync(join(dir, 'packages/domain/dist'), { recursive: true });
  writeFileSync(join(dir, 'packages/domain/dist/index.js'), '"use strict";\n');
  for (const f of ['index.ts', 'package.json', 'tsconfig.json', 'tenants.yaml'])
    cpSync(join(ROOT, 'examples', f), join(dir, 'examples', f));
  cpSync(join(ROOT, 'examples/functions'), join(dir, 'examples/functions'), { recursive: true });
  mkdirSync(join(dir, 'examples/dist'), { recursive: true });
  writeFileSync(join(dir, 'examples/dist/index.js'), '"use strict";\n');
  mkdirSync(join(dir, 'node_modules/@callsync'), { recursive: true });
  symlinkSync('../../examples', join(dir, 'node_modules/@callsync/examples'));
  return dir;
}

const prune = (dir: string) => exec(join(ROOT, 'scripts/image-examples.sh'), [dir]);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the image and examples/', () => {
  const built = join(ROOT, 'apps/ingress/dist/functions.js');
  beforeAll(() => assertBuilt());

  it('keeps the built example, without its sources and sample data, while functions.ts registers it', async () => {
    const text = readFileSync(built, 'utf8');
    expect(text).toContain('@callsync/examples'); // check_availability is registered today
    const dir = buildStage(text);
    await prune(dir);
    expect(existsSync(join(dir, 'examples/dist/index.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@callsync/examples/dist/index.js'))).toBe(true);
    for (const gone of ['examples/index.ts', 'examples/functions', 'examples/tsconfig.json', 'examples/tenants.yaml'])
      expect({ gone, exists: existsSync(join(dir, gone)) }).toEqual({ gone, exists: false });
  });

  it('leaves examples/ out when no built code requires it (the team registered none of its functions)', async () => {
    const unregistered = readFileSync(built, 'utf8')
      .split('\n')
      .filter((line) => !line.includes('@callsync/examples'))
      .join('\n');
    const dir = buildStage(unregistered);
    await prune(dir);
    expect(existsSync(join(dir, 'examples'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/@callsync/examples'))).toBe(false);
    expect(existsSync(join(dir, 'apps/ingress/dist/functions.js'))).toBe(true);
  });

  it('is the step the Dockerfile runs, after the build and the prune', () => {
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const run = docker.slice(docker.indexOf('RUN rm -rf packages/testkit'));
    expect(run.indexOf('npm prune --omit=dev')).toBeGreaterThan(run.indexOf('npx tsc -b'));
    expect(run.indexOf('/tmp/image-examples.sh')).toBeGreaterThan(run.indexOf('npm prune --omit=dev'));
    expect(docker).toContain('COPY scripts/image-examples.sh /tmp/image-examples.sh');
  });
});
