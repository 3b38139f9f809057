import type { Queue } from 'bullmq';
import type { z } from 'zod';
import { scheduledJob } from './jobs';
import { queueFactory } from './queue-factory';
import { scheduleSingleton } from './singleton-schedule';

/** The completeness audit (issue 32), daily, one at a time across all processes, on a queue of its own. */
export const auditJob = scheduledJob('audit', 'audit');

export type AuditJobData = z.infer<typeof auditJob.payload>;
export type AuditQueue = Queue<AuditJobData>;

export const AUDIT_QUEUE = auditJob.queue;

/** How often the audit runs: once a day, over the day before. */
export const AUDIT_EVERY_MS = 24 * 3600_000;

export const createAuditQueue = queueFactory<AuditJobData>(AUDIT_QUEUE);

/** The daily audit's scheduler; idempotent, so every worker registers it at start and on reconnect. */
export async function scheduleAudit(queue: AuditQueue, everyMs = AUDIT_EVERY_MS): Promise<void> {
  await scheduleSingleton(queue, auditJob.name, everyMs, auditJob.name, {});
}
