export { createWebhookWorker, WEBHOOK_LOCK_SETTINGS } from './webhook-worker';
export type { WebhookWorkerOptions } from './webhook-worker';
export { createReconcileWorker } from './reconcile-worker';
export type { ReconcileWorkerOptions } from './reconcile-worker';
export {
  createMaintenanceWorker,
  createRetentionWorker,
  createTenantSyncWorker,
  SWEEPER_LOCK_SETTINGS,
} from './maintenance-worker';
export { sweepOverdueForwards, sweepPendingEvents } from './sweeper';
export { createForwardWorker, handOff } from './forward-worker';
export { ForwardGate, TURN_HORIZON_MS } from './forward-gate';
export type { GateLimits } from './forward-gate';
export type { ForwardWorkerOptions } from './forward-worker';
export type { SweepOptions, SweepResult } from './sweeper';
export { startWorkerProcess } from './worker-process';
export { applyRetention } from './retention';
export type { RetentionResult } from './retention';
export { alertSenders, createAlertWorker } from './alert-worker';
export type { AlertWorkerOptions } from './alert-worker';
export { createAuditWorker } from './audit-worker';
export type { AuditWorkerOptions } from './audit-worker';
