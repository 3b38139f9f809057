export { createWebhookWorker } from './webhook-worker';
export type { WebhookWorkerOptions } from './webhook-worker';
