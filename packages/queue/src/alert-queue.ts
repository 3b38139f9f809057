import type { Queue } from 'bullmq';
import type { z } from 'zod';
import { scheduledJob } from './jobs';
import { queueFactory } from './queue-factory';
import { scheduleSingleton } from './singleton-schedule';

/**
 * callsync's own alert check (ALERT_CHECK_EVERY_SECONDS): evaluate the alert conditions, tell what
 * started or ended, send the daily summary when due. One at a time across all processes, on a queue
 * of its own so a slow SMTP server never holds off the sweeper.
 */
export const alertCheckJob = scheduledJob('alerts', 'alert-check');

export type AlertCheckJobData = z.infer<typeof alertCheckJob.payload>;
export type AlertQueue = Queue<AlertCheckJobData>;

export const ALERT_QUEUE = alertCheckJob.queue;

export const createAlertQueue = queueFactory<AlertCheckJobData>(ALERT_QUEUE);

/** The check every `everyMs`; `everyMs` null removes the scheduler (no channel configured any more). */
export async function scheduleAlertChecks(queue: AlertQueue, everyMs: number | null): Promise<void> {
  if (everyMs === null) {
    await queue.removeJobScheduler(alertCheckJob.name);
    return;
  }
  await scheduleSingleton(queue, alertCheckJob.name, everyMs, alertCheckJob.name, {});
}
