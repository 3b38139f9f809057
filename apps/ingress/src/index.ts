export { createIngressApp, WEBHOOK_PATH } from './app';
export type { IngressDeps } from './app';
