export { Metrics } from './metrics';
export { eventLabel, outcomeForStatus } from './labels';
export { probeDependencies, startMetricsServer } from './metrics-server';
export type { OpsServerOptions, ReadinessCheck } from './metrics-server';
export type { DeliveryOutcome, HandlingOutcome } from './labels';
