import { Queue } from 'bullmq';
import { z } from 'zod';
import type { RedisConnection } from './connection';
import type { JobDefinition } from './jobs';
import { scheduleSingleton } from './singleton-schedule';

/**
 * callsync's own alert check (ALERT_CHECK_EVERY_SECONDS): evaluate the alert conditions, tell what
 * started or ended, send the daily summary when due. One at a time across all processes, on a queue
 * of its own so a slow SMTP server never holds off the sweeper.
 */
export const alertCheckJob = {
  queue: 'alerts',
  name: 'alert-check',
  payload: z.looseObject({}),
} satisfies JobDefinition<unknown>;

export type AlertCheckJobData = z.infer<typeof alertCheckJob.payload>;
export type AlertQueue = Queue<AlertCheckJobData>;

export const ALERT_QUEUE = alertCheckJob.queue;

export function createAlertQueue(connection: RedisConnection, prefix: string, name = ALERT_QUEUE): AlertQueue {
  return new Queue<AlertCheckJobData>(name, { connection, prefix });
}

/** The check every `everyMs`; `everyMs` null removes the scheduler (no channel configured any more). */
export async function scheduleAlertChecks(queue: AlertQueue, everyMs: number | null): Promise<void> {
  if (everyMs === null) {
    await queue.removeJobScheduler(alertCheckJob.name);
    return;
  }
  await scheduleSingleton(queue, alertCheckJob.name, everyMs, alertCheckJob.name, {});
}
