export { freePort } from './ports';
export { LocalServices } from './local-services';
export { ManagedProcess } from './managed-process';
export { runChaos, formatChaos, INGRESS_RSS_BUDGET_BYTES } from './chaos/chaos';
export type { ChaosOptions, ChaosResult } from './chaos/chaos';
export { LocalPrometheus } from './local-prometheus';
export type { PrometheusAlert, PrometheusTarget } from './local-prometheus';
