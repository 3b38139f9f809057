import { Queue } from 'bullmq';
import { z } from 'zod';
import type { RedisConnection } from './connection';
import type { JobDefinition } from './jobs';
import { scheduleSingleton } from './singleton-schedule';

/** The completeness audit (issue 32), daily, one at a time across all processes, on a queue of its own. */
export const auditJob = {
  queue: 'audit',
  name: 'audit',
  payload: z.looseObject({}),
} satisfies JobDefinition<unknown>;

export type AuditJobData = z.infer<typeof auditJob.payload>;
export type AuditQueue = Queue<AuditJobData>;

export const AUDIT_QUEUE = auditJob.queue;

/** How often the audit runs: once a day, over the day before. */
export const AUDIT_EVERY_MS = 24 * 3600_000;

export function createAuditQueue(connection: RedisConnection, prefix: string, name = AUDIT_QUEUE): AuditQueue {
  return new Queue<AuditJobData>(name, { connection, prefix });
}

/** The daily audit's scheduler; idempotent, so every worker registers it at start and on reconnect. */
export async function scheduleAudit(queue: AuditQueue, everyMs = AUDIT_EVERY_MS): Promise<void> {
  await scheduleSingleton(queue, auditJob.name, everyMs, auditJob.name, {});
}
