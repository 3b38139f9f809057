import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Metrics } from '@callsync/metrics';
import {
  FORWARD_QUEUE,
  MAINTENANCE_QUEUE,
  RECONCILE_QUEUE,
  RETENTION_QUEUE,
  TENANTS_QUEUE,
  WEBHOOK_QUEUE,
} from '@callsync/queue';
import { parse } from 'yaml';
import { resolveEnvironment, workloadConfig } from './environment';
import { describe, ofKind, ROOT, selects, type K8sObject, type Workload } from './manifests';
import { containerPort, listeners } from './probes';

/*
 * Monitoring and scaling read what callsync exports: the ServiceMonitor scrapes the metrics ports
 * under the job names the alert rules use, the PrometheusRule is ops/prometheus/alerts.yml itself,
 * and the ScaledObject's queries name real series, queues, jobs and the namespace they run in.
 */

/** The scrape jobs ops/prometheus/alerts.yml and the Grafana dashboard expect, per process. */
export const SCRAPE_JOBS: Record<string, string> = {
  ingress: 'callsync-ingress',
  live: 'callsync-live',
  worker: 'callsync-worker',
};
export const ALERTS_FILE = 'ops/prometheus/alerts.yml';
const QUEUES = new Set([
  WEBHOOK_QUEUE,
  FORWARD_QUEUE,
  RECONCILE_QUEUE,
  MAINTENANCE_QUEUE,
  RETENTION_QUEUE,
  TENANTS_QUEUE,
]);

/** Every series callsync's processes register, state gauges included. */
export function exportedSeries(): Set<string> {
  const m = new Metrics('deploy-check');
  m.watchState(null as never, []); // registers the gauges; nothing is read until a scrape
  m.watchReadiness(async () => true);
  m.watchBacklog(() => ({ requests: 0, bytes: 0 }));
  return new Set(m.registry.getMetricsAsArray().map((x) => x.name));
}

function checkServiceMonitors(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems: string[] = [];
  const monitors = ofKind(objects, 'ServiceMonitor');
  if (!monitors.length) problems.push('no ServiceMonitor: Prometheus would scrape nothing and no alert could fire');
  const scraped = new Set<string>();
  for (const sm of monitors) {
    const jobLabel: string | undefined = sm.spec?.jobLabel;
    for (const svc of ofKind(objects, 'Service').filter((s) => selects(sm.spec?.selector, s.metadata.labels ?? {}))) {
      const job = jobLabel ? svc.metadata.labels?.[jobLabel] : svc.metadata.name;
      const pods = all.find(
        (w) => w.object.kind === 'Deployment' && selects({ matchLabels: svc.spec?.selector ?? {} }, w.labels),
      );
      const expected = pods?.component && SCRAPE_JOBS[pods.component];
      if (!expected || job !== expected) {
        problems.push(
          `${describe(sm)}: scrapes ${describe(svc)} as job "${job}"; the alert rules expect ${expected ?? 'no such job'}`,
        );
        continue;
      }
      scraped.add(job);
      const config = workloadConfig(resolveEnvironment(pods, objects)).config;
      const metricsListener =
        config && listeners(pods.component, config).find((l) => l.variable.endsWith('METRICS_PORT'));
      for (const ep of sm.spec?.endpoints ?? []) {
        const port = svc.spec?.ports?.find((p: { name?: string }) => p.name === ep.port);
        const target = port && containerPort(pods.container, port.targetPort ?? port.port);
        if (!metricsListener || target !== metricsListener.port) {
          problems.push(
            `${describe(sm)}: endpoint port ${ep.port} of ${describe(svc)} is not the ${pods.component}'s /metrics port`,
          );
        }
      }
    }
  }
  for (const job of Object.values(SCRAPE_JOBS)) {
    if (monitors.length && !scraped.has(job))
      problems.push(`nothing is scraped as job ${job}, which the alert rules read`);
  }
  return problems;
}

function checkPrometheusRules(objects: readonly K8sObject[]): string[] {
  const { groups } = parse(readFileSync(join(ROOT, ALERTS_FILE), 'utf8')) as { groups: unknown };
  const rules = ofKind(objects, 'PrometheusRule');
  if (rules.length !== 1) return [`${rules.length} PrometheusRules; expected one, built from ${ALERTS_FILE}`];
  return isDeepStrictEqual(rules[0]!.spec?.groups, groups)
    ? []
    : [
        `${describe(rules[0]!)} differs from ${ALERTS_FILE}, its source: run \`node scripts/kubernetes/prometheus-rule.mjs\``,
      ];
}

function checkScaledObjects(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const series = exportedSeries();
  const queuesScaledOn = new Set<string>();
  for (const so of ofKind(objects, 'ScaledObject')) {
    for (const trigger of so.spec?.triggers ?? []) {
      if (trigger.type !== 'prometheus') continue;
      const where = `${describe(so)} trigger ${trigger.name ?? trigger.type}`;
      const query: string = trigger.metadata?.query ?? '';
      for (const name of query.match(/\bcallsync_[a-z0-9_]+/g) ?? []) {
        if (!series.has(name)) problems.push(`${where}: callsync exports no series ${name}`);
      }
      for (const [, label, value] of query.matchAll(/\b(queue|job|namespace)="([^"]*)"/g)) {
        if (label === 'queue' && !QUEUES.has(value!)) problems.push(`${where}: there is no queue "${value}"`);
        if (label === 'queue') queuesScaledOn.add(value!);
        if (label === 'job' && !Object.values(SCRAPE_JOBS).includes(value!)) {
          problems.push(`${where}: no ServiceMonitor scrapes a job "${value}"`);
        }
        if (label === 'namespace' && value !== so.metadata.namespace) {
          problems.push(`${where}: reads namespace "${value}" but runs in "${so.metadata.namespace}"`);
        }
      }
      if (!(Number(trigger.metadata?.threshold) > 0)) problems.push(`${where}: threshold must be a positive number`);
    }
  }
  for (const queue of [WEBHOOK_QUEUE, FORWARD_QUEUE]) {
    if (!queuesScaledOn.has(queue)) problems.push(`no ScaledObject trigger follows the ${queue} queue's backlog`);
  }
  return problems;
}

export function checkMonitoring(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  return [...checkServiceMonitors(objects, all), ...checkPrometheusRules(objects), ...checkScaledObjects(objects)];
}
