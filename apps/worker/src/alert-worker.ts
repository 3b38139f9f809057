import type { Worker } from 'bullmq';
import type { Config } from '@callsync/config';
import type { Db } from '@callsync/db';
import {
  emailSender,
  runAlertCheck,
  webhookSender,
  type AlertCheckResult,
  type AlertSender,
  type NotifierOptions,
} from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { alertCheckJob, type AlertCheckJobData, type RedisConnection } from '@callsync/queue';
import { createQueueWorker } from './queue-worker';

/** The channels ALERT_WEBHOOK_URL and ALERT_SMTP_URL configure; none when neither is set. */
export function alertSenders(alerts: Config['alerts']): AlertSender[] {
  const senders: AlertSender[] = [];
  if (alerts.webhookUrl) senders.push(webhookSender({ url: alerts.webhookUrl }));
  if (alerts.smtpUrl)
    senders.push(emailSender({ smtpUrl: alerts.smtpUrl, from: alerts.emailFrom, to: alerts.emailTo }));
  return senders;
}

export interface AlertWorkerOptions extends Omit<NotifierOptions, 'logger'> {
  db: Db;
  connection: RedisConnection;
  logger: Logger;
  prefix: string;
  /** Default: the job's own queue. */
  queueName?: string;
}

/** Runs the scheduled alert check (alertCheckJob). Closing the worker closes the senders too. */
export function createAlertWorker(options: AlertWorkerOptions): Worker<AlertCheckJobData, AlertCheckResult> {
  const { db, connection, logger, prefix, queueName, ...notifier } = options;
  const worker = createQueueWorker({
    job: alertCheckJob,
    queueName,
    handle: () => runAlertCheck(db, { ...notifier, logger }),
    connection,
    prefix,
    logger,
    concurrency: 1,
  });
  worker.on('closed', () => {
    for (const s of notifier.senders) s.close();
  });
  return worker;
}
