import type { Config } from '@callsync/config';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { resolveEnvironment, workloadConfig } from './environment';
import { describe, type K8sObject, type Workload } from './manifests';

/*
 * Probes, read from the manifests: each Deployment's container has a liveness and a readiness probe
 * over HTTP, on a port its process really listens on. Whether the paths exist is asked of the
 * processes themselves (probe-processes.ts).
 */

export const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
export type ProbeKind = (typeof PROBES)[number];

/** A port a process listens on, and the variable that sets it. */
export interface Listener {
  variable: string;
  port: number;
}

/** The HTTP listeners of a callsync process, as its configuration sets them. */
export function listeners(component: string | undefined, config: Config): Listener[] {
  switch (component) {
    case 'ingress':
      return [
        { variable: 'PORT', port: config.ingress.port },
        { variable: 'INGRESS_METRICS_PORT', port: config.ingress.metricsPort },
      ];
    case 'live':
      return [
        { variable: 'LIVE_PORT', port: config.live.port },
        { variable: 'LIVE_METRICS_PORT', port: config.live.metricsPort },
      ];
    case 'worker':
      return [{ variable: 'WORKER_METRICS_PORT', port: config.worker.metricsPort }];
    case 'dashboard':
      return [{ variable: 'DASHBOARD_PORT', port: config.dashboard.port }];
    default:
      return [];
  }
}

/** The container port a probe (or Service) names, by name or number. */
export function containerPort(container: IContainer, port: number | string): number | undefined {
  const ports = container.ports ?? [];
  return typeof port === 'number'
    ? ports.find((p) => p.containerPort === port)?.containerPort
    : ports.find((p) => p.name === port)?.containerPort;
}

/** A probe of the container with its path and the listener it reaches (undefined if none). */
export interface HttpProbe {
  kind: ProbeKind;
  path: string;
  listener: Listener | undefined;
}

export function httpProbes(container: IContainer, ports: readonly Listener[]): HttpProbe[] {
  return PROBES.flatMap((kind) => {
    const probe: IProbe | undefined = container[kind];
    if (!probe?.httpGet) return [];
    const port = containerPort(container, probe.httpGet.port);
    return [{ kind, path: probe.httpGet.path ?? '/', listener: ports.find((l) => l.port === port) }];
  });
}

export function checkProbes(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems: string[] = [];
  for (const w of all.filter((x) => x.object.kind === 'Deployment')) {
    const who = describe(w.object);
    const { config } = workloadConfig(resolveEnvironment(w, objects));
    if (!config) continue; // checkEnvironment names why
    const ports = listeners(w.component, config);
    for (const l of ports.filter((x) => x.port === 0)) {
      problems.push(`${who}: ${l.variable} is 0 (a random port); probes and Services need a fixed one`);
    }
    for (const p of w.container.ports ?? []) {
      if (!ports.some((l) => l.port === p.containerPort)) {
        const known = ports.map((l) => `${l.variable} ${l.port}`).join(', ');
        problems.push(
          `${who}: containerPort ${p.containerPort} is not a port the ${w.component} listens on (${known})`,
        );
      }
    }
    for (const kind of ['livenessProbe', 'readinessProbe'] as const) {
      const probe = w.container[kind];
      if (!probe) problems.push(`${who}: no ${kind}`);
      else if (!probe.httpGet) problems.push(`${who}: ${kind} is not an HTTP GET of /healthz or /readyz`);
    }
    for (const probe of httpProbes(w.container, ports)) {
      if (!probe.listener) {
        problems.push(`${who}: ${probe.kind} ${probe.path} targets a port the ${w.component} does not listen on`);
      }
    }
  }
  return problems;
}
