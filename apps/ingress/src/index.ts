export { createIngressApp, WEBHOOK_PATH } from './app';
export type { IngressDeps } from './app';
export { CONTEXT_PATH, createLiveApp, FUNCTIONS_PATH, INBOUND_PATH, liveRoutes } from './live.routes';
export type { LiveAppDeps } from './live.routes';
export { ingressFunctions, TEAM_FUNCTIONS } from './functions';
export { LIVE_BACKGROUND_POOL_SIZE } from './startup';
export { AnswerRecorder } from './live-record';
