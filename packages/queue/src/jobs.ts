import { z } from 'zod';

/*
 * Every job callsync puts on a queue, defined once: the queue it lives on, its name, its payload
 * (checked with zod when a worker takes it) and, for scheduled jobs, how often it runs. Producers
 * (the ingress, the sweeper, replay, the schedulers) and the workers all use these definitions.
 */

export interface JobDefinition<D> {
  /** The BullMQ queue (its default name; tests may use another). */
  queue: string;
  /** The job name; webhook jobs are named after their event instead, for Bull Board. */
  name: string;
  /** What a job's data must look like. Unknown fields pass, so older jobs still in Redis run too. */
  payload: z.ZodType<D>;
}

/** A scheduled job that carries nothing: its schedule is the whole message. */
export const scheduledJob = (queue: string, name: string) =>
  ({ queue, name, payload: z.looseObject({}) }) satisfies JobDefinition<unknown>;

/** One job per stored webhook_events row: apply it. */
export const webhookEventJob = {
  queue: 'webhooks',
  name: 'event',
  payload: z.looseObject({
    /** webhook_events.id; the row, not the job, holds the payload. */
    rowId: z.string().regex(/^\d+$/, 'must be a webhook_events id'),
    /** For logs and Bull Board only. */
    callId: z.string().optional(),
    chatId: z.string().optional(),
    event: z.string().optional(),
    /** transcript_updated: the snapshot size this job was added for (part of its id). */
    snapshot: z.number().int().nonnegative().optional(),
  }),
} satisfies JobDefinition<unknown>;

/**
 * The rows one ingress INSERT committed, applied by one job: BullMQ's cost (a job added, fetched,
 * locked and finished) is paid once per batch instead of once per event. Same queue as the per-row
 * jobs. A row the batch cannot apply gets a per-row job of its own (`evt-<row id>`), which retries it
 * and shows its error in Bull Board.
 */
export const webhookBatchJob = {
  queue: 'webhooks',
  name: 'batch',
  payload: z.looseObject({
    rowIds: z.array(z.string().regex(/^\d+$/, 'must be a webhook_events id')).min(1, 'must name at least one row'),
  }),
} satisfies JobDefinition<unknown>;

/** The reconciliation pass, on a schedule (RECONCILE_EVERY_MINUTES), one at a time across all processes. */
export const reconcileJob = {
  queue: 'reconcile',
  name: 'reconcile',
  payload: z.looseObject({ trigger: z.literal('scheduled') }),
} satisfies JobDefinition<unknown>;

/** The outbox sweeper, on a schedule (SWEEP_EVERY_SECONDS), one at a time across all processes. */
export const sweepPendingJob = scheduledJob('maintenance', 'sweep-pending');

/** Retention, daily, one at a time across all processes, on a queue of its own. */
export const retentionJob = scheduledJob('retention', 'retention');

/** Agents and phone numbers from Retell's API, daily and when a worker starts, on a queue of its own. */
export const tenantSyncJob = scheduledJob('tenants', 'tenant-sync');

export type WebhookJobData = z.infer<typeof webhookEventJob.payload>;
export type WebhookBatchData = z.infer<typeof webhookBatchJob.payload>;

/** The job for a stored webhook_events row (the ids are only for logs and Bull Board). */
export function webhookJobData(row: {
  id: string;
  event_type: string;
  call_id?: string | null;
  chat_id?: string | null;
  snapshot?: number | null;
}): WebhookJobData {
  const data: WebhookJobData = { rowId: row.id, event: row.event_type };
  if (row.call_id) data.callId = row.call_id;
  if (row.chat_id) data.chatId = row.chat_id;
  if (row.snapshot !== undefined && row.snapshot !== null) data.snapshot = row.snapshot;
  return data;
}
export type ReconcileJobData = z.infer<typeof reconcileJob.payload>;
export type HousekeepingJobData = z.infer<typeof sweepPendingJob.payload>;

/** A job's data checked against its definition; the error names the job and the field. */
export function parseJobData<D>(definition: JobDefinition<D>, jobId: string | undefined, data: unknown): D {
  const parsed = definition.payload.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`${definition.queue} job ${jobId ?? '?'}: ${issue.path.join('.') || 'data'} ${issue.message}`);
}

/** One job per chain head in forward_deliveries: send it to its destination. */
export const forwardDeliveryJob = {
  queue: 'forwards',
  name: 'forward',
  payload: z.looseObject({
    /** forward_deliveries.id; the row holds everything else. */
    deliveryId: z.string().regex(/^\d+$/, 'must be a forward_deliveries id'),
    /** For logs and Bull Board only. */
    destinationId: z.string().optional(),
    subject: z.string().optional(),
    event: z.string().optional(),
  }),
} satisfies JobDefinition<unknown>;

export type ForwardJobData = z.infer<typeof forwardDeliveryJob.payload>;
