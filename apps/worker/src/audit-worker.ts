import type { Worker } from 'bullmq';
import type { Db } from '@callsync/db';
import { defaultAuditGraceMinutes, runAudit, type AuditReport, type ProviderApi } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { auditJob, AUDIT_EVERY_MS, type AuditJobData, type RedisConnection } from '@callsync/queue';
import { createQueueWorker } from './queue-worker';

export interface AuditWorkerOptions {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  prefix: string;
  retell: ProviderApi;
  /** RECONCILE_EVERY_MINUTES and RECONCILE_ANALYSIS_AFTER_MINUTES: the grace period is their sum. */
  reconcile: { everyMinutes: number; analysisAfterMinutes: number };
  /** Default: the job's own queue. */
  queueName?: string;
  /** Default: Date.now. */
  now?: () => number;
}

/**
 * The daily completeness audit: the day that ended one grace period ago (so reconciliation and
 * forwarding have had their chance with every call in it), recorded in audit_runs, where the
 * callsync_audit_* gauges read it.
 */
export function createAuditWorker(options: AuditWorkerOptions): Worker<AuditJobData, Omit<AuditReport, 'gaps'>> {
  const graceMs = defaultAuditGraceMinutes(options.reconcile) * 60_000;
  return createQueueWorker({
    job: auditJob,
    queueName: options.queueName,
    handle: async (_data, job) => {
      const untilMs = (options.now?.() ?? Date.now()) - graceMs;
      const report = await runAudit(
        { db: options.db, retell: options.retell },
        { sinceMs: untilMs - AUDIT_EVERY_MS, untilMs, graceMs, record: 'scheduled' },
      );
      const { gaps, ...summary } = report;
      options.logger.log(report.overdue > 0 ? 'warn' : 'info', 'audit done', {
        job_id: job.id,
        run_id: report.runId,
        listed: report.listed,
        complete: report.complete,
        in_flight: report.inFlight,
        gaps: gaps.length,
        overdue: report.overdue,
        // Ids only (never numbers or transcripts), and a handful: the full list is in audit_runs.
        ...(gaps.length ? { first_gaps: gaps.slice(0, 10).map((g) => `${g.id}: ${g.reason}`) } : {}),
      });
      return summary;
    },
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: 1,
  });
}
