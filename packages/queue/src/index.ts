export { createRedisConnection } from './connection';
export type { RedisConnection, RedisTarget, ConnectionOptions } from './connection';
export {
  WEBHOOK_QUEUE,
  webhookJobId,
  webhookJobOptions,
  createWebhookQueue,
  enqueueWebhookEvent,
  enqueueWebhookEvents,
  enqueueWebhookBatch,
  rowsInLiveBatches,
  ensureWebhookJobs,
} from './webhook-queue';
export type { WebhookQueue, WebhookQueueOptions } from './webhook-queue';
export { ensureJobs } from './ensure-jobs';
export type { EnsureJobsResult } from './ensure-jobs';
export {
  FORWARD_QUEUE,
  addForwardJobs,
  createForwardQueue,
  enqueueForwards,
  ensureForwardJobs,
  forwardJobId,
} from './forward-queue';
export { COUNT_TTL_MS, FRONT_OF_LINE, MAX_PRIORITY, TurnCounter, takeTurns } from './forward-turns';
export type { ForwardJobHead, ForwardQueue } from './forward-queue';
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
  webhookBatchJob,
  webhookJobData,
  reconcileJob,
  sweepPendingJob,
  retentionJob,
  tenantSyncJob,
  forwardDeliveryJob,
  parseJobData,
} from './jobs';
export type {
  JobDefinition,
  WebhookJobData,
  WebhookBatchData,
  ReconcileJobData,
  HousekeepingJobData,
  ForwardJobData,
} from './jobs';
export { createQueues } from './queues';
export type { CallsyncQueues } from './queues';
export { AUDIT_EVERY_MS, AUDIT_QUEUE, auditJob, createAuditQueue, scheduleAudit } from './audit-queue';
export type { AuditJobData, AuditQueue } from './audit-queue';
export { ALERT_QUEUE, alertCheckJob, createAlertQueue, scheduleAlertChecks } from './alert-queue';
export type { AlertCheckJobData, AlertQueue } from './alert-queue';
export { liveBatchRowsBetween, queueRedis, recordBatchMembership, trimBatchMembership } from './batch-membership';
export { LuaScript } from './lua-script';
