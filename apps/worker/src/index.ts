export { createWebhookWorker } from './webhook-worker';
export type { WebhookWorkerOptions } from './webhook-worker';
export { createReconcileWorker } from './reconcile-worker';
export type { ReconcileWorkerOptions } from './reconcile-worker';
