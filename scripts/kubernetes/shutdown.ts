import type { Config } from '@callsync/config';
import { DASHBOARD_SHUTDOWN_BOUND_MS, ingressShutdownBoundMs, workerShutdownBoundMs } from '@callsync/runtime';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { resolveEnvironment, workloadConfig } from './environment';
import { describe, type K8sObject, type Workload } from './manifests';

/*
 * Kubernetes runs preStop, sends SIGTERM, and SIGKILLs whatever still runs when
 * terminationGracePeriodSeconds (counted from the start of preStop) is over. Each callsync process
 * stops within a bound of its own after SIGTERM (packages/runtime); the grace period must cover
 * preStop plus that bound, or a process that was stopping cleanly is killed mid-way.
 */

/** Room between a process's own bound and the SIGKILL: its exit, and the kubelet noticing it. */
export const GRACE_MARGIN_MS = 5_000;

/** Kubernetes' default when a pod sets none. */
const DEFAULT_GRACE_SECONDS = 30;

/** A process's bound after SIGTERM, from its configuration, and how it is made up. */
export function shutdownBound(component: string | undefined, config: Config): { ms: number; what: string } | undefined {
  switch (component) {
    case 'ingress':
      return {
        ms: ingressShutdownBoundMs(config.ingress.shutdownDrainMs),
        what: `the ingress's shutdown bound (SHUTDOWN_DRAIN_MS ${config.ingress.shutdownDrainMs} ms, the last requests, closing)`,
      };
    case 'live':
      return {
        ms: ingressShutdownBoundMs(config.ingress.shutdownDrainMs),
        what: `the live process's shutdown bound, the ingress's (SHUTDOWN_DRAIN_MS ${config.ingress.shutdownDrainMs} ms, the last requests, closing)`,
      };
    case 'worker':
      return {
        ms: workerShutdownBoundMs(config.worker.shutdownTimeoutMs),
        what: `the worker's shutdown bound (WORKER_SHUTDOWN_TIMEOUT_MS ${config.worker.shutdownTimeoutMs} ms for jobs, then closing)`,
      };
    case 'dashboard':
      return { ms: DASHBOARD_SHUTDOWN_BOUND_MS, what: "the dashboard's shutdown bound" };
    default:
      return undefined;
  }
}

/** How long preStop holds off SIGTERM: a `sleep N` exec or the sleep action; 0 without one. */
export function preStopMs(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds * 1000;
  const command = preStop?.exec?.command ?? [];
  const sleep = command[0] === 'sleep' ? Number(command[1]) : NaN;
  return Number.isFinite(sleep) ? sleep * 1000 : 0;
}

const seconds = (ms: number) => `${ms / 1000} s`;

export function checkGracePeriods(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems: string[] = [];
  for (const w of all.filter((x) => x.object.kind === 'Deployment')) {
    const who = describe(w.object);
    const { config } = workloadConfig(resolveEnvironment(w, objects));
    if (!config) continue; // checkEnvironment names why the process would not start
    const bound = shutdownBound(w.component, config);
    if (!bound) {
      problems.push(
        `${who}: app.kubernetes.io/component "${w.component}" is not a callsync process with a shutdown bound`,
      );
      continue;
    }
    const graceMs = (w.pod.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    const preStop = preStopMs(w.container);
    const needed = preStop + bound.ms + GRACE_MARGIN_MS;
    if (graceMs < needed) {
      problems.push(
        `${who}: terminationGracePeriodSeconds ${seconds(graceMs)} is too short: preStop ${seconds(preStop)} + ${bound.what} ` +
          `${seconds(bound.ms)} + ${seconds(GRACE_MARGIN_MS)} margin = ${seconds(needed)}; ` +
          `Kubernetes would SIGKILL a process that is still stopping cleanly`,
      );
    }
    // Endpoints leave Services and load balancers a few seconds after the pod starts terminating;
    // the ingress must keep serving meanwhile, by a preStop sleep or its own drain.
    if (w.component === 'ingress' && preStop === 0 && config.ingress.shutdownDrainMs === 0) {
      problems.push(
        `${who}: neither a preStop sleep nor SHUTDOWN_DRAIN_MS keeps the ingress serving while its endpoints are removed; ` +
          `requests Retell sends meanwhile would be refused`,
      );
    }
  }
  return problems;
}
