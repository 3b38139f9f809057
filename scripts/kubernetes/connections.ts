import { resolveEnvironment, workloadConfig } from './environment';
import { ofKind, type K8sObject, type Workload } from './manifests';

/*
 * The most Postgres connections a release can open at once: every Deployment at its autoscaler's
 * maximum, each process holding what the connection budget (docs/operating.md) says it may.
 */

/** Connections a process may hold beside DATABASE_POOL_SIZE (docs/operating.md, "Connection budget"). */
const BESIDE_POOL: Record<string, (pool: number) => number> = {
  // its pool, 1 for /metrics, 4 for the live routes (inbound, functions, context API), 1 LISTEN
  ingress: (pool) => pool + 6,
  // its pool and 1 LISTEN
  worker: (pool) => pool + 1,
  // LIVE_POOL_SIZE (its own, whatever DATABASE_POOL_SIZE says), 2 for what no answer waits on
  // (LIVE_BACKGROUND_POOL_SIZE: records after the answers, prefetch) and 1 LISTEN
  live: (pool) => pool + 3,
  // the console's own pool of 3, whatever DATABASE_POOL_SIZE says
  dashboard: () => 3,
  // one connection (apps/cli migrate)
  migrate: () => 1,
};

export interface ConnectionBudget {
  /** "4 × (10 + 6)" per workload, in the order of the sum. */
  terms: string[];
  total: number;
}

/** Replicas at most: the autoscaler's maximum, else the Deployment's count; a Job runs one pod. */
function maxReplicas(w: Workload, objects: readonly K8sObject[]): number {
  const name = w.object.metadata.name;
  const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((o) => o.spec?.scaleTargetRef?.name === name);
  const keda = ofKind(objects, 'ScaledObject').find((o) => o.spec?.scaleTargetRef?.name === name);
  if (hpa) return hpa.spec.maxReplicas;
  if (keda) return keda.spec.maxReplicaCount ?? 100; // KEDA's default maximum
  return w.object.kind === 'Job' ? 1 : (w.object.spec?.replicas ?? 1);
}

export function connectionBudget(objects: readonly K8sObject[], all: readonly Workload[]): ConnectionBudget {
  const terms: string[] = [];
  let total = 0;
  for (const component of ['ingress', 'live', 'worker', 'dashboard', 'migrate']) {
    for (const w of all.filter((x) => x.component === component)) {
      const config = workloadConfig(resolveEnvironment(w, objects)).config;
      const pool = (component === 'live' ? config?.live.poolSize : config?.database.poolSize) ?? 10;
      const each = BESIDE_POOL[component]!(pool);
      const n = maxReplicas(w, objects);
      total += n * each;
      terms.push(
        ['ingress', 'live', 'worker'].includes(component) ? `${n} × (${pool} + ${each - pool})` : `${n * each}`,
      );
    }
  }
  return { terms, total };
}
