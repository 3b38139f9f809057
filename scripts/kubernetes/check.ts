import { checkImages, checkLabels, checkPods, checkSelectors } from './consistency';
import { checkEnvironment } from './environment';
import { checkUnknownFields } from './fields';
import { workloads, type K8sObject, type Workload } from './manifests';
import { checkMonitoring } from './monitoring';
import { checkNetwork } from './network';
import { checkProbePaths } from './probe-processes';
import { checkProbes } from './probes';
import { checkSchemas } from './schemas';
import { checkGracePeriods } from './shutdown';

/*
 * `make deploy-check`: every rule over the rendered manifests. Each rule returns the problems it
 * found, each naming the object and what is wrong; none means the manifests pass.
 */

export interface Rule {
  name: string;
  check: (objects: readonly K8sObject[], all: readonly Workload[]) => string[] | Promise<string[]>;
}

export const RULES: readonly Rule[] = [
  {
    name: "every object matches its API's schema (Kubernetes, KEDA, Prometheus operator)",
    check: (objects) => checkSchemas(objects),
  },
  { name: 'no object has a field its API lacks (a misspelt one)', check: (objects) => checkUnknownFields(objects) },
  {
    name: 'every environment variable is one packages/config knows, secrets come from Secrets, each process would start',
    check: checkEnvironment,
  },
  { name: "grace periods cover preStop and each process's shutdown bound", check: checkGracePeriods },
  { name: 'probes are HTTP GETs on ports the processes listen on', check: checkProbes },
  { name: 'probe paths are real routes, and liveness answers without Postgres and Redis', check: checkProbePaths },
  {
    name: 'labels and selectors agree: Services, budgets and autoscalers reach their Deployment',
    check: (objects, all) => [...checkLabels(objects, all), ...checkSelectors(objects, all)],
  },
  {
    name: 'requests and limits; non-root, read-only root filesystem, no escalation',
    check: (_, all) => checkPods(all),
  },
  { name: "one release: images pinned, the migrate Job on the worker's image", check: (_, all) => checkImages(all) },
  { name: 'only the ingress takes outside traffic; the dashboard is internal', check: checkNetwork },
  { name: 'scrape jobs, alert rules and scaling queries match what callsync exports', check: checkMonitoring },
];

/** Every rule's problems, in rule order. */
export async function checkManifests(objects: readonly K8sObject[]): Promise<string[]> {
  const all = workloads(objects);
  const problems: string[] = [];
  for (const rule of RULES) problems.push(...(await rule.check(objects, all)));
  return problems;
}
