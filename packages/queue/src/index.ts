export { createRedisConnection } from './connection';
export type { RedisConnection, RedisTarget, ConnectionOptions } from './connection';
export { WEBHOOK_QUEUE, webhookJobId, webhookJobOptions, createWebhookQueue, enqueueWebhookEvent, enqueueWebhookEvents } from './webhook-queue';
export type { WebhookJobData, WebhookQueue, WebhookQueueOptions } from './webhook-queue';
export { RECONCILE_QUEUE, createReconcileQueue, scheduleReconcile } from './reconcile-queue';
export type { ReconcileJobData, ReconcileQueue } from './reconcile-queue';
export { MAINTENANCE_QUEUE, createMaintenanceQueue, scheduleMaintenance } from './maintenance-queue';
export type { MaintenanceJobData, MaintenanceQueue, MaintenanceTask } from './maintenance-queue';
