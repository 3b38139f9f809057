export { LocalServices, freePort } from './chaos/local-services';
export { runChaos, formatChaos } from './chaos/chaos';
export type { ChaosOptions, ChaosResult } from './chaos/chaos';
