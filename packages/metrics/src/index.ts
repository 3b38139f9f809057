export { Metrics, eventLabel, outcomeForStatus } from './metrics';
export { probeDependencies, startMetricsServer } from './metrics-server';
export type { OpsServerOptions, ReadinessCheck } from './metrics-server';
export type { DeliveryOutcome, HandlingOutcome } from './metrics';
