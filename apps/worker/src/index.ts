export { createWebhookWorker, WEBHOOK_LOCK_SETTINGS } from './webhook-worker';
export type { WebhookWorkerOptions } from './webhook-worker';
export { createReconcileWorker } from './reconcile-worker';
export type { ReconcileWorkerOptions } from './reconcile-worker';
export { createMaintenanceWorker } from './maintenance-worker';
export { sweepPendingEvents } from './sweeper';
export type { SweepOptions, SweepResult } from './sweeper';
export { startWorkerProcess } from './worker-process';
