import type { Queue } from 'bullmq';
import type { RedisConnection } from './connection';
import {
  createMaintenanceQueue,
  createRetentionQueue,
  createTenantsQueue,
  type HousekeepingQueue,
} from './maintenance-queue';
import { createAlertQueue, type AlertQueue } from './alert-queue';
import { createAuditQueue, type AuditQueue } from './audit-queue';
import { createForwardQueue, type ForwardQueue } from './forward-queue';
import { createReconcileQueue, type ReconcileQueue } from './reconcile-queue';
import { createWebhookQueue, type WebhookQueue } from './webhook-queue';

export interface CallsyncQueues {
  webhooks: WebhookQueue;
  reconcile: ReconcileQueue;
  maintenance: HousekeepingQueue;
  retention: HousekeepingQueue;
  tenants: HousekeepingQueue;
  forwards: ForwardQueue;
  /** The daily completeness audit. */
  audit: AuditQueue;
  /** callsync's own alert checks (ALERT_WEBHOOK_URL, ALERT_SMTP_URL). */
  alerts: AlertQueue;
  /** All of them, for Bull Board, metrics and stats. */
  all: readonly Queue[];
  close(): Promise<void>;
}

/** Every queue callsync uses, on one connection. */
export function createQueues(
  connection: RedisConnection,
  prefix: string,
  job: { attempts: number; backoffMs: number },
): CallsyncQueues {
  const webhooks = createWebhookQueue({ connection, prefix, ...job });
  const reconcile = createReconcileQueue(connection, prefix);
  const maintenance = createMaintenanceQueue(connection, prefix);
  const retention = createRetentionQueue(connection, prefix);
  const tenants = createTenantsQueue(connection, prefix);
  const forwards = createForwardQueue(connection, prefix);
  const audit = createAuditQueue(connection, prefix);
  const alerts = createAlertQueue(connection, prefix);
  const all = [webhooks, reconcile, maintenance, retention, tenants, forwards, audit, alerts] as Queue[];
  return {
    webhooks,
    reconcile,
    maintenance,
    retention,
    tenants,
    forwards,
    audit,
    alerts,
    all,
    close: async () => void (await Promise.all(all.map((q) => q.close()))),
  };
}
