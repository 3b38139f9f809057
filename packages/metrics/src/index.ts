export { Metrics, eventLabel, outcomeForStatus } from './metrics';
export type { DeliveryOutcome, HandlingOutcome } from './metrics';
