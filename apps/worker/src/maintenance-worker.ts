import type { Worker } from 'bullmq';
import type { RetentionPolicy } from '@callsync/config';
import type { Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import {
  retentionJob,
  sweepPendingJob,
  tenantSyncJob,
  type HousekeepingJobData,
  type ForwardQueue,
  type RedisConnection,
  type WebhookQueue,
} from '@callsync/queue';
import { syncTenantsFromRetell, type SecretKeyring, type SyncSummary, type TenantSource } from '@callsync/domain';
import { createQueueWorker, TAKEOVER_LOCK_SETTINGS } from './queue-worker';
import { applyRetention, type RetentionResult } from './retention';
import { sweepOverdueForwards, sweepPendingEvents, type SweepResult } from './sweeper';

interface HousekeepingOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  prefix: string;
  /** Default: the job's own queue. */
  queueName?: string;
}

export interface MaintenanceWorkerOptions extends HousekeepingOptions {
  /** Where the sweeper re-enqueues pending rows. */
  webhookQueue: WebhookQueue;
  /** Where it re-enqueues forward deliveries that lost their job. */
  forwardQueue?: ForwardQueue;
  sweepPendingAfterMs: number;
}

export interface RetentionWorkerOptions extends HousekeepingOptions {
  retention: RetentionPolicy;
  /** CALLSYNC_SECRET_KEY: the caller hash pruned sessions keep is keyed with it. */
  keys: SecretKeyring;
}

/** Runs the outbox sweeper's scheduled jobs (sweepPendingJob). */
export function createMaintenanceWorker(
  options: MaintenanceWorkerOptions,
): Worker<HousekeepingJobData, SweepResult | undefined> {
  return createQueueWorker({
    job: sweepPendingJob,
    queueName: options.queueName,
    handle: async (_data, job) => {
      if (job.name !== sweepPendingJob.name) {
        // A retention job left on this queue by a version that ran it here: its own queue runs it now.
        options.logger.info(`${job.name} job on the ${sweepPendingJob.queue} queue ignored; it runs on its own queue`);
        return undefined;
      }
      const sweep = { pendingAfterMs: options.sweepPendingAfterMs };
      const events = await sweepPendingEvents(options.db, options.webhookQueue, options.logger, sweep);
      if (options.forwardQueue) await sweepOverdueForwards(options.db, options.forwardQueue, options.logger, sweep);
      return events;
    },
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
    // One sweep at a time across every worker (scheduleSingleton): a sweep a killed worker took holds
    // every later one until it is taken over, while jobs a Redis restart or a crash lost wait for it.
    settings: TAKEOVER_LOCK_SETTINGS,
  });
}

/** Runs retention's scheduled jobs (retentionJob), on a queue of their own. */
export function createRetentionWorker(options: RetentionWorkerOptions): Worker<HousekeepingJobData, RetentionResult> {
  return createQueueWorker({
    job: retentionJob,
    queueName: options.queueName,
    handle: async () => applyRetention(options.db, options.keys, options.logger, options.retention),
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
  });
}

export interface TenantSyncWorkerOptions extends HousekeepingOptions {
  retell: TenantSource;
}

/** Runs the tenant sync (tenantSyncJob): agents and phone numbers from Retell's API. */
export function createTenantSyncWorker(options: TenantSyncWorkerOptions): Worker<HousekeepingJobData, SyncSummary> {
  return createQueueWorker({
    job: tenantSyncJob,
    queueName: options.queueName,
    handle: async () => {
      const summary = await syncTenantsFromRetell(options.db, options.retell);
      options.logger.info('tenants synced from Retell', {
        agents: summary.agents,
        new_agents: summary.newAgents,
        numbers: summary.numbers,
        new_numbers: summary.newNumbers,
        inherited: summary.inherited,
        sessions_given_company: summary.backfilled.calls + summary.backfilled.chats,
        ...(summary.skippedNumbers.length ? { not_e164: summary.skippedNumbers } : {}),
      });
      return summary;
    },
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
  });
}
