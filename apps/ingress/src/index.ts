export { createIngressApp, WEBHOOK_PATH } from './app';
export type { IngressDeps } from './app';
export { CONTEXT_PATH, FUNCTIONS_PATH, INBOUND_PATH } from './live.routes';
export { ingressFunctions, TEAM_FUNCTIONS } from './functions';
