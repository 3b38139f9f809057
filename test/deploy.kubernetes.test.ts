import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifests, RULES } from '../scripts/kubernetes/check';
import { connectionBudget } from '../scripts/kubernetes/connections';
import { secretsToCreate } from '../scripts/kubernetes/environment';
import { renderProduction, ROOT, workloads, type K8sObject } from '../scripts/kubernetes/manifests';

/**
 * `make deploy-check`: the Kubernetes manifests (deploy/kubernetes) rendered as users apply them and
 * checked offline; then the same check on rendered manifests broken on purpose, which it must refuse
 * with a message naming the problem. Starts the built processes briefly (probe paths); needs no
 * database, no Redis and no cluster.
 */
const objects = renderProduction();
const DOCS = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');

function find(list: K8sObject[], kind: string, name: string): K8sObject {
  const obj = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`${kind} ${name} is not rendered`);
  return obj;
}

/** The rendered production manifests with one change. */
function broken(change: (list: K8sObject[]) => void): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  change(copy);
  return copy;
}

describe('deploy/kubernetes/overlays/production, rendered', () => {
  it('holds what the compose file runs, plus what Kubernetes adds', () => {
    const names = objects.map((o) => `${o.kind} ${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Job callsync-migrate',
        'Deployment callsync-ingress',
        'Deployment callsync-worker',
        'Deployment callsync-dashboard',
        'Service callsync-ingress',
        'Service callsync-worker',
        'Service callsync-dashboard',
        'PodDisruptionBudget callsync-ingress',
        'PodDisruptionBudget callsync-worker',
        'HorizontalPodAutoscaler callsync-ingress',
        'ScaledObject callsync-worker',
        'ServiceMonitor callsync',
        'PrometheusRule callsync',
        'NetworkPolicy callsync-default-deny',
        'Ingress callsync',
      ]),
    );
    expect(objects.every((o) => o.metadata.namespace === 'callsync')).toBe(true);
  });

  for (const rule of RULES) {
    it(rule.name, async () => {
      expect(await rule.check(objects, workloads(objects))).toEqual([]);
    });
  }

  it('needs the Secrets docs/kubernetes.md tells users to create', () => {
    for (const [secret, keys] of secretsToCreate(objects, workloads(objects))) {
      for (const key of keys)
        expect({ secret, key, documented: DOCS.includes(key.split(' ')[0]!) }).toMatchObject({ documented: true });
      expect(DOCS).toContain(`generic ${secret} `);
    }
  });

  it('opens at most the Postgres connections docs/kubernetes.md counts', () => {
    const { terms, total } = connectionBudget(objects, workloads(objects));
    expect(DOCS).toContain(`${terms.join(' + ')} = ${total}`);
  });
});

describe('deploy-check refuses a broken manifest, naming the problem', () => {
  it('a probe path the process has no route for', async () => {
    const list = broken((l) => {
      find(l, 'Deployment', 'callsync-ingress').spec.template.spec.containers[0].readinessProbe.httpGet.path = '/ready';
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^Deployment callsync-ingress: readinessProbe \/ready \(port PORT\) answers 404/),
    ]);
  });

  it('a liveness probe that fails while Postgres is down', async () => {
    const list = broken((l) => {
      find(l, 'Deployment', 'callsync-worker').spec.template.spec.containers[0].livenessProbe.httpGet.path = '/readyz';
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(
        /^Deployment callsync-worker: livenessProbe \/readyz .* answers 503 while Postgres and Redis are unreachable/,
      ),
    ]);
  });

  it('a grace period shorter than the shutdown bound', async () => {
    const list = broken((l) => {
      find(l, 'Deployment', 'callsync-worker').spec.template.spec.terminationGracePeriodSeconds = 20;
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^Deployment callsync-worker: terminationGracePeriodSeconds 20 s is too short: .* = 30 s/),
    ]);
  });

  it('a longer worker shutdown timeout without a longer grace period', async () => {
    const list = broken((l) => {
      l.find((o) => o.kind === 'ConfigMap')!.data!.WORKER_SHUTDOWN_TIMEOUT_MS = '60000';
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(
        /^Deployment callsync-worker: terminationGracePeriodSeconds 35 s is too short: .*WORKER_SHUTDOWN_TIMEOUT_MS 60000/,
      ),
    ]);
  });

  it('an unknown environment variable', async () => {
    const list = broken((l) => {
      const worker = find(l, 'Deployment', 'callsync-worker').spec.template.spec.containers[0];
      worker.env.push({ name: 'WORKER_CONCURENCY', value: '32' });
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^Deployment callsync-worker: unknown environment variable WORKER_CONCURENCY/),
    ]);
  });

  it('a secret written into the manifests', async () => {
    const list = broken((l) => {
      const ingress = find(l, 'Deployment', 'callsync-ingress').spec.template.spec.containers[0];
      ingress.env = ingress.env.map((v: { name: string }) =>
        v.name === 'RETELL_API_KEY' ? { name: 'RETELL_API_KEY', value: 'key_live_abc' } : v,
      );
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^Deployment callsync-ingress: RETELL_API_KEY is set in plain text/),
    ]);
  });

  it('an object its schema rejects', async () => {
    const list = broken((l) => {
      find(l, 'ScaledObject', 'callsync-worker').spec.triggers[0].metadata.threshold = 64;
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^ScaledObject callsync-worker does not match .*threshold must be string/),
    ]);
  });

  it('a misspelt field', async () => {
    const list = broken((l) => {
      const pod = find(l, 'Deployment', 'callsync-worker').spec.template.spec;
      pod.terminationGracePeriodSecond = pod.terminationGracePeriodSeconds;
      delete pod.terminationGracePeriodSeconds;
    });
    expect(await checkManifests(list)).toEqual([
      'Deployment callsync-worker: unknown field spec.template.spec.terminationGracePeriodSecond, which its API does not have',
    ]);
  });

  it('a public dashboard', async () => {
    const list = broken((l) => {
      find(l, 'Service', 'callsync-dashboard').spec.type = 'LoadBalancer';
    });
    expect(await checkManifests(list)).toEqual([
      expect.stringMatching(/^Service callsync-dashboard: exposes Deployment callsync-dashboard outside the cluster/),
    ]);
  });
});
