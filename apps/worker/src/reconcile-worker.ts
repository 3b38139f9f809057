import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Db } from '@callsync/db';
import {
  defaultHandlers,
  runReconcilePass,
  type HandlerRegistry,
  type ProviderApi,
  type ReconcileSummary,
} from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import {
  enqueueForwards,
  reconcileJob,
  type ForwardQueue,
  type ReconcileJobData,
  type RedisConnection,
} from '@callsync/queue';
import { createQueueWorker } from './queue-worker';

export interface ReconcileWorkerOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  metrics?: Metrics;
  prefix: string;
  retell: ProviderApi;
  staleAfterMinutes: number;
  analysisAfterMinutes: number;
  maxTries: number;
  /** Default RECONCILE_QUEUE. */
  queueName?: string;
  handlers?: HandlerRegistry;
  /** Where deliveries queued by what the pass applies get their jobs (else the sweeper adds them). */
  forwardQueue?: ForwardQueue;
}

/** Runs the scheduled reconciliation pass; the queue's global concurrency keeps it to one at a time. */
export function createReconcileWorker(options: ReconcileWorkerOptions): Worker<ReconcileJobData, ReconcileSummary> {
  const runner = `${hostname()}:${process.pid}`;
  return createQueueWorker<ReconcileJobData, ReconcileSummary>({
    job: reconcileJob,
    queueName: options.queueName,
    handle: async (_data, job) => {
      const started = performance.now();
      const summary = await runReconcilePass(
        {
          db: options.db,
          retell: options.retell,
          handlers: options.handlers ?? defaultHandlers,
          enqueueForwards: options.forwardQueue && ((heads) => enqueueForwards(options.forwardQueue!, heads)),
        },
        {
          trigger: 'scheduled',
          runner,
          staleAfterMinutes: options.staleAfterMinutes,
          analysisAfterMinutes: options.analysisAfterMinutes,
          maxTries: options.maxTries,
          onCall: (r) => {
            options.metrics?.reconcileOutcomes.inc({ outcome: r.outcome });
            if (r.outcome === 'failed')
              options.logger.warn('reconcile: call check failed', {
                call_id: r.callId,
                job_id: job.id,
                error: r.detail,
              });
            else
              options.logger.debug('reconcile: call checked', {
                call_id: r.callId,
                outcome: r.outcome,
                detail: r.detail,
              });
          },
        },
      );
      const level = summary.found > 0 ? 'info' : 'debug';
      const { runId, ...counts } = summary;
      options.logger.log(level, 'reconcile pass done', {
        job_id: job.id,
        run_id: runId,
        ...counts,
        duration_ms: Math.round(performance.now() - started),
      });
      return summary;
    },
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
  });
}
