import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { resolveEnvironment, workloadConfig } from './environment';
import { describe, ofKind, selects, type K8sObject, type Workload } from './manifests';
import { containerPort } from './probes';

/*
 * Who can reach what: only the ingress's webhook port and the live pods' port take traffic from
 * outside the cluster (their NetworkPolicy rules, a LoadBalancer or NodePort Service, an Ingress
 * backend); the dashboard only from its own namespace; every pod is covered by a policy, so what is
 * not allowed is denied.
 */

/** The public port of each process that takes outside traffic (ingress: PORT; live: LIVE_PORT). */
type PublicPorts = Map<string, number | undefined>;

interface Rule {
  from?: INetworkPolicyPeer[];
  ports?: INetworkPolicyPort[];
}

/** A rule any address may match: no peers at all, or an ipBlock of everything. */
function isOpen(rule: Rule): boolean {
  return !rule.from?.length || rule.from.some((p) => p.ipBlock && ['0.0.0.0/0', '::/0'].includes(p.ipBlock.cidr));
}

/** Every pod under a policy; open rules only on the ingress's webhook port; the dashboard only from inside. */
function checkPolicies(all: readonly Workload[], publicPorts: PublicPorts, policies: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of all) {
    const covering = policies.filter(
      (p) => selects(p.spec?.podSelector, w.labels) && (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
    );
    if (!covering.length)
      problems.push(`${describe(w.object)}: no NetworkPolicy covers its pods, so anyone may connect`);
    for (const policy of covering) {
      for (const rule of (policy.spec?.ingress ?? []) as Rule[]) {
        const ports = (rule.ports ?? []).map((p) => containerPort(w.container, p.port ?? ''));
        // A rule whose named ports this container lacks opens nothing on it.
        if (ports.length && ports.every((p) => p === undefined)) continue;
        const publicPort = publicPorts.get(w.component ?? '');
        if (isOpen(rule) && !publicPorts.has(w.component ?? '')) {
          problems.push(
            `${describe(policy)}: lets any source reach ${describe(w.object)}; only the ingress and the live pods take outside traffic`,
          );
        } else if (isOpen(rule) && (!ports.length || ports.some((p) => p !== publicPort))) {
          problems.push(
            `${describe(policy)}: opens more of the ${w.component} to any source than its public port ${publicPort}`,
          );
        }
        const outside = rule.from?.some((p) => p.namespaceSelector || p.ipBlock);
        if (w.component === 'dashboard' && (isOpen(rule) || outside)) {
          problems.push(
            `${describe(policy)}: lets traffic from outside its namespace reach the dashboard, which is internal`,
          );
        }
      }
    }
  }
  return problems;
}

/** The Deployment a Service sends to, and the container port each of its ports reaches. */
function serviceTarget(
  svc: K8sObject,
  all: readonly Workload[],
): { target?: Workload; ports: Map<string, number | undefined> } {
  const target = all.find(
    (w) => w.object.kind === 'Deployment' && selects({ matchLabels: svc.spec?.selector ?? {} }, w.labels),
  );
  const ports = new Map<string, number | undefined>();
  for (const p of svc.spec?.ports ?? []) {
    ports.set(String(p.name ?? p.port), target && containerPort(target.container, p.targetPort ?? p.port));
    if (p.name) ports.set(String(p.port), ports.get(p.name));
  }
  return { target, ports };
}

/** Only the ingress's Service may leave the cluster (LoadBalancer, NodePort), with its webhook port alone. */
function checkServices(objects: readonly K8sObject[], all: readonly Workload[], publicPorts: PublicPorts): string[] {
  const problems: string[] = [];
  for (const svc of ofKind(objects, 'Service')) {
    if (!['LoadBalancer', 'NodePort'].includes(svc.spec?.type) && !svc.spec?.externalIPs?.length) continue;
    const { target, ports } = serviceTarget(svc, all);
    const publicPort = publicPorts.get(target?.component ?? '');
    if (!publicPorts.has(target?.component ?? '')) {
      problems.push(`${describe(svc)}: exposes ${target ? describe(target.object) : 'its pods'} outside the cluster`);
    } else if ([...ports.values()].some((p) => p !== publicPort)) {
      problems.push(`${describe(svc)}: exposes more of the ${target?.component} than its public port ${publicPort}`);
    }
  }
  return problems;
}

/** Every Ingress backend is the ingress's Service, on the port that reaches the webhook port. */
function checkIngressBackends(
  objects: readonly K8sObject[],
  all: readonly Workload[],
  publicPorts: PublicPorts,
): string[] {
  const services = new Map(ofKind(objects, 'Service').map((s) => [s.metadata.name, s]));
  const problems: string[] = [];
  for (const ing of ofKind(objects, 'Ingress')) {
    const paths = (ing.spec?.rules ?? []).flatMap((r: { http?: { paths?: { backend: IngressBackend }[] } }) =>
      (r.http?.paths ?? []).map((p) => p.backend),
    );
    for (const b of [ing.spec?.defaultBackend as IngressBackend | undefined, ...paths]) {
      if (!b) continue;
      const svc = services.get(b.service?.name ?? '');
      const { target, ports } = svc ? serviceTarget(svc, all) : { target: undefined, ports: new Map() };
      const port = ports.get(String(b.service?.port?.name ?? b.service?.port?.number));
      const publicPort = publicPorts.get(target?.component ?? '');
      if (!publicPorts.has(target?.component ?? '') || port !== publicPort) {
        problems.push(
          `${describe(ing)}: a backend (${b.service?.name}) is not the ingress's webhook port ${publicPorts.get('ingress')} or the live port ${publicPorts.get('live')}`,
        );
      }
    }
  }
  return problems;
}

interface IngressBackend {
  service?: { name: string; port?: { name?: string; number?: number } };
}

export function checkNetwork(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const publicPorts: PublicPorts = new Map();
  const ingress = all.find((w) => w.component === 'ingress');
  if (ingress) publicPorts.set('ingress', workloadConfig(resolveEnvironment(ingress, objects)).config?.ingress.port);
  const live = all.find((w) => w.component === 'live');
  if (live) publicPorts.set('live', workloadConfig(resolveEnvironment(live, objects)).config?.live.port);
  return [
    ...checkPolicies(all, publicPorts, ofKind(objects, 'NetworkPolicy')),
    ...checkServices(objects, all, publicPorts),
    ...checkIngressBackends(objects, all, publicPorts),
  ];
}
