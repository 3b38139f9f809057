import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INGRESS_NODE_FLAGS, waitUntil } from '@callsync/runtime';
import { freePort } from '@callsync/testkit';
import { resolveEnvironment, startEnvironment, workloadConfig } from './environment';
import { describe, ROOT, type K8sObject, type Workload } from './manifests';
import { httpProbes, listeners } from './probes';

/*
 * Probe paths, asked of the real processes: each Deployment's built process starts with the
 * environment its manifest gives it (secrets replaced by addresses nothing listens on, ports by free
 * ones on 127.0.0.1) and each probe path is requested. A path the process has no route for answers
 * 404. A liveness probe must answer 200 while Postgres and Redis are unreachable, as they are here:
 * otherwise an outage of either would have Kubernetes restart every pod.
 */

const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 5_000;

function entryPoint(component: string): string {
  // The live process is the ingress app's second entry point (apps/ingress/src/live-main.ts).
  const file =
    component === 'live' ? join(ROOT, 'apps/ingress/dist/live-main.js') : join(ROOT, 'apps', component, 'dist/main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (make build)`);
  return file;
}

/** The status a GET answers, or undefined while nothing listens. */
async function get(port: number, path: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined; // not listening yet (or no answer in time): the caller decides
  }
}

async function probeWorkload(w: Workload, objects: readonly K8sObject[]): Promise<string[]> {
  const who = describe(w.object);
  const resolved = resolveEnvironment(w, objects);
  const { config } = workloadConfig(resolved);
  if (!config || !w.component) return []; // checkEnvironment and checkProbes name why
  const ports = listeners(w.component, config);
  if (!ports.length) return [];
  const local = new Map<string, number>();
  for (const l of ports) local.set(l.variable, await freePort());
  const env = { ...startEnvironment(resolved), ...Object.fromEntries(local), SHUTDOWN_DRAIN_MS: '0' };
  const flags = w.component === 'ingress' ? INGRESS_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, entryPoint(w.component)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    const up = await waitUntil(
      async () => {
        if (child.exitCode !== null) return false;
        const answers = await Promise.all([...local.values()].map((port) => get(port, '/')));
        return answers.every((s) => s !== undefined) ? true : undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 200 },
    );
    if (!up) return [`${who}: the ${w.component} process did not start listening; its output ends:\n${output}`];
    const problems: string[] = [];
    for (const probe of httpProbes(w.container, ports)) {
      if (!probe.listener) continue; // checkProbes names it
      const status = await get(local.get(probe.listener.variable)!, probe.path);
      const where = `${probe.kind} ${probe.path} (port ${probe.listener.variable})`;
      if (status === 404) problems.push(`${who}: ${where} answers 404: the ${w.component} has no such route`);
      else if (status === undefined) problems.push(`${who}: ${where} got no answer within ${REQUEST_TIMEOUT_MS} ms`);
      else if (probe.kind === 'livenessProbe' && status !== 200) {
        problems.push(
          `${who}: ${where} answers ${status} while Postgres and Redis are unreachable; an outage of either ` +
            `would restart every pod (liveness means alive: /healthz)`,
        );
      }
    }
    return problems;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Every Deployment's probes against its running process; the processes run side by side. */
export async function checkProbePaths(objects: readonly K8sObject[], all: readonly Workload[]): Promise<string[]> {
  const deployments = all.filter((w) => w.object.kind === 'Deployment');
  return (await Promise.all(deployments.map((w) => probeWorkload(w, objects)))).flat();
}
