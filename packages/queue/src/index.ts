export { createRedisConnection } from './connection';
export type { RedisConnection, RedisTarget, ConnectionOptions } from './connection';
export {
  WEBHOOK_QUEUE,
  webhookJobId,
  webhookJobOptions,
  createWebhookQueue,
  enqueueWebhookEvent,
  enqueueWebhookEvents,
  ensureWebhookJobs,
} from './webhook-queue';
export type { EnsureJobsResult, WebhookQueue, WebhookQueueOptions } from './webhook-queue';
export { RECONCILE_QUEUE, createReconcileQueue, scheduleReconcile } from './reconcile-queue';
export type { ReconcileQueue } from './reconcile-queue';
export {
  MAINTENANCE_QUEUE,
  RETENTION_QUEUE,
  TENANTS_QUEUE,
  createMaintenanceQueue,
  createRetentionQueue,
  createTenantsQueue,
  scheduleMaintenance,
  scheduleTenantSync,
} from './maintenance-queue';
export type { HousekeepingQueue } from './maintenance-queue';
export {
  webhookEventJob,
  webhookJobData,
  reconcileJob,
  sweepPendingJob,
  retentionJob,
  tenantSyncJob,
  parseJobData,
} from './jobs';
export type { JobDefinition, WebhookJobData, ReconcileJobData, HousekeepingJobData } from './jobs';
export { createQueues } from './queues';
export type { CallsyncQueues } from './queues';
