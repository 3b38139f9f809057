import { containerPort } from './probes';
import { describe, ofKind, selects, type K8sObject, type Workload } from './manifests';

/*
 * What must agree between objects: labels and the selectors that find them, the ports Services
 * name, the autoscalers' targets, resources and the pod's security settings, and one release's images.
 */

export const PART_OF = { 'app.kubernetes.io/part-of': 'callsync' } as const;
const NAME = 'app.kubernetes.io/name';
const COMPONENT = 'app.kubernetes.io/component';

/** Every object is labelled part-of callsync; every pod names itself and its component. */
export function checkLabels(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems = objects
    .filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] !== 'callsync')
    .map((o) => `${describe(o)}: no label app.kubernetes.io/part-of: callsync`);
  for (const w of all) {
    const who = describe(w.object);
    for (const key of [NAME, COMPONENT, 'app.kubernetes.io/part-of']) {
      if (!w.labels[key]) problems.push(`${who}: its pods have no label ${key}`);
    }
    if (w.object.kind === 'Deployment' && !selects(w.object.spec?.selector, w.labels)) {
      problems.push(`${who}: its selector does not select its own pod template`);
    }
    for (const key of [NAME, COMPONENT]) {
      const own = w.object.metadata.labels?.[key];
      if (own !== undefined && own !== w.labels[key]) {
        problems.push(`${who}: label ${key} is "${own}" but its pods' is "${w.labels[key]}"`);
      }
    }
  }
  return problems;
}

function deploymentsSelectedBy(selector: unknown, all: readonly Workload[]): Workload[] {
  return all.filter((w) => w.object.kind === 'Deployment' && selects(selector as never, w.labels));
}

/** Services, PodDisruptionBudgets and autoscalers each reach exactly the Deployment they mean. */
export function checkSelectors(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems: string[] = [];
  for (const svc of ofKind(objects, 'Service')) {
    const targets = deploymentsSelectedBy({ matchLabels: svc.spec?.selector ?? {} }, all);
    if (targets.length !== 1) {
      problems.push(`${describe(svc)}: selects ${targets.length} Deployments' pods, not one`);
      continue;
    }
    for (const p of svc.spec?.ports ?? []) {
      if (containerPort(targets[0]!.container, p.targetPort ?? p.port) === undefined) {
        problems.push(
          `${describe(svc)}: port ${p.name} targets ${p.targetPort}, which ${describe(targets[0]!.object)} does not expose`,
        );
      }
    }
  }
  for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
    if (deploymentsSelectedBy(pdb.spec?.selector, all).length !== 1) {
      problems.push(`${describe(pdb)}: does not select exactly one Deployment's pods`);
    }
  }
  const scaled = new Map<string, string>();
  const autoscalers = [
    ...ofKind(objects, 'HorizontalPodAutoscaler').map((o) => ({ o, target: o.spec?.scaleTargetRef?.name as string })),
    ...ofKind(objects, 'ScaledObject').map((o) => ({ o, target: o.spec?.scaleTargetRef?.name as string })),
  ];
  for (const { o, target } of autoscalers) {
    const deployment = all.find((w) => w.object.kind === 'Deployment' && w.object.metadata.name === target);
    if (!deployment) problems.push(`${describe(o)}: scales ${target}, which is not a rendered Deployment`);
    else if (deployment.object.spec?.replicas !== undefined) {
      problems.push(
        `${describe(deployment.object)}: sets replicas while ${describe(o)} scales it; every apply would reset the count`,
      );
    }
    if (scaled.has(target)) problems.push(`${target}: scaled by both ${scaled.get(target)} and ${describe(o)}`);
    scaled.set(target, describe(o));
  }
  // Several replicas (or an autoscaler's minimum above one) need a budget, or a drain can take them all.
  for (const w of all.filter((x) => x.object.kind === 'Deployment')) {
    const many = (w.object.spec?.replicas ?? 1) > 1 || scaled.has(w.object.metadata.name);
    const budget = ofKind(objects, 'PodDisruptionBudget').some((p) => selects(p.spec?.selector, w.labels));
    if (many && !budget)
      problems.push(`${describe(w.object)}: runs several replicas but no PodDisruptionBudget covers it`);
  }
  return problems;
}

/** Kubernetes quantities as numbers: "500m" → 0.5, "256Mi" → 268435456. */
export function quantity(value: string | number | undefined): number {
  if (value === undefined) return NaN;
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(value));
  if (!m) return NaN;
  const units: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? units[m[2]]! : 1);
}

/** Requests and limits for CPU and memory, requests within limits; non-root, read-only, no escalation. */
export function checkPods(all: readonly Workload[]): string[] {
  const problems: string[] = [];
  for (const w of all) {
    const who = describe(w.object);
    for (const c of w.pod.containers) {
      for (const resource of ['cpu', 'memory']) {
        const request = quantity(c.resources?.requests?.[resource]);
        const limit = quantity(c.resources?.limits?.[resource]);
        if (Number.isNaN(request) || Number.isNaN(limit)) {
          problems.push(`${who}: container ${c.name} needs both a ${resource} request and a ${resource} limit`);
        } else if (request > limit) {
          problems.push(`${who}: container ${c.name} requests more ${resource} than its limit`);
        }
      }
      const sc = c.securityContext ?? {};
      if (!(sc.runAsNonRoot ?? w.pod.securityContext?.runAsNonRoot))
        problems.push(`${who}: container ${c.name} may run as root`);
      if (sc.readOnlyRootFilesystem !== true)
        problems.push(`${who}: container ${c.name} has a writable root filesystem`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${who}: container ${c.name} allows privilege escalation`);
    }
  }
  return problems;
}

/** One release: every image pinned (to one tag, or by digest), and the migrate Job on the worker's image. */
export function checkImages(all: readonly Workload[]): string[] {
  const problems: string[] = [];
  const tags = new Set<string>();
  for (const w of all) {
    const image = w.container.image ?? '';
    if (image.includes('@sha256:')) continue; // a digest pins it; digests differ per image
    const tag = /:([^:/]+)$/.exec(image)?.[1];
    if (!tag || tag === 'latest') problems.push(`${describe(w.object)}: image ${image} is not pinned to a release tag`);
    else tags.add(tag);
  }
  if (tags.size > 1) problems.push(`images of different releases in one deploy: ${[...tags].join(', ')}`);
  const worker = all.find((w) => w.component === 'worker')?.container.image;
  for (const job of all.filter((w) => w.component === 'migrate')) {
    if (job.container.image !== worker) {
      problems.push(`${describe(job.object)}: runs ${job.container.image}, not the worker's image ${worker}`);
    }
  }
  return problems;
}
