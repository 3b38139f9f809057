import { type Db } from '@callsync/db';
import {
  applyAlertCheck,
  claimAlertMessages,
  dailySummaryQueued,
  markAlertMessageFailed,
  markAlertMessageSent,
  queueDailySummary,
  type AlertTransition,
  type NewAlertMessage,
} from '@callsync/db/ops';
import type { Logger } from '@callsync/logger';
import type { AlertSender } from './channels';
import { ALERT_CONDITIONS, evaluateConditions, type AlertCondition } from './conditions';
import { composeDailySummary } from './summary';

export interface NotifierOptions {
  /** Where messages go; none: nothing is checked. */
  senders: readonly AlertSender[];
  /** Default ALERT_CONDITIONS. */
  conditions?: readonly AlertCondition[];
  /**
   * A condition must be seen clear this long before its end is told, so one that flaps at the
   * threshold sends one start and one end, not a pair per check. Default 5 minutes.
   */
  clearAfterMs?: number;
  /** Hour of the day (UTC) from which the day's summary goes out; null: none. Default 7. */
  summaryHourUtc?: number | null;
  now?: () => Date;
  logger: Logger;
}

export interface AlertCheckResult {
  /** Conditions (condition or condition[subject]) that started at this check. */
  started: string[];
  ended: string[];
  /** Conditions that could not be evaluated (their state is kept). */
  unevaluated: string[];
  summaryQueued: boolean;
  sent: number;
  sendFailures: number;
}

/** Failed sends are tried again at later checks, this many times in all. */
const MAX_SEND_ATTEMPTS = 20;

const label = (t: { condition: string; subject: string }) => (t.subject ? `${t.condition}[${t.subject}]` : t.condition);

function render(conditions: readonly AlertCondition[]): (t: AlertTransition) => NewAlertMessage {
  return (t) => {
    const runbook = conditions.find((c) => c.name === t.condition)?.runbook;
    if (t.kind === 'started')
      return {
        kind: 'started',
        subject: `[callsync] FIRING ${label(t)}`,
        body: [`${t.detail ?? ''}`, '', `Since: ${t.at.toISOString()}`, ...(runbook ? ['', runbook] : [])].join('\n'),
      };
    const minutes = Math.max(0, Math.round((t.at.getTime() - t.startedAt.getTime()) / 60_000));
    return {
      kind: 'ended',
      subject: `[callsync] RESOLVED ${label(t)}`,
      body: [
        `Clear since ${t.at.toISOString()}, after ${minutes} minute(s).`,
        ...(t.detail ? [`It was: ${t.detail}`] : []),
      ].join('\n'),
    };
  };
}

/**
 * One check: evaluate every condition, write what started and what ended (once, whichever process
 * checks), write the day's summary once it is due, then send every unsent message. Run by the
 * scheduled alert-check job; safe to run from several processes at once.
 */
export async function runAlertCheck(db: Db, options: NotifierOptions): Promise<AlertCheckResult> {
  const now = options.now?.() ?? new Date();
  const conditions = options.conditions ?? ALERT_CONDITIONS;
  const channels = [...new Set(options.senders.map((s) => s.channel))];
  const evaluation = await evaluateConditions(db, conditions, now);
  for (const f of evaluation.failed) options.logger.warn('alert condition could not be checked; its state is kept', f);
  const changes = await applyAlertCheck(db, evaluation.firing, {
    evaluated: evaluation.evaluated,
    clearAfterMs: options.clearAfterMs ?? 5 * 60_000,
    channels,
    render: render(conditions),
    now,
  });
  for (const c of changes)
    options.logger.log(c.kind === 'started' ? 'warn' : 'info', `alert ${c.kind}: ${label(c)}`, { detail: c.detail });

  let summaryQueued = false;
  const hour = options.summaryHourUtc === undefined ? 7 : options.summaryHourUtc;
  const day = now.toISOString().slice(0, 10);
  if (hour !== null && now.getUTCHours() >= hour && !(await dailySummaryQueued(db, day))) {
    try {
      const summary = await composeDailySummary(db, now);
      summaryQueued = (await queueDailySummary(db, day, channels, summary)) > 0;
    } catch (err) {
      // The alerts above still go out; the summary is tried again at the next check.
      options.logger.warn('daily summary not written; tried again at the next check', { err: (err as Error).message });
    }
  }

  const delivery = await deliverAlertMessages(db, options.senders, options.logger);
  return {
    started: changes.filter((c) => c.kind === 'started').map(label),
    ended: changes.filter((c) => c.kind === 'ended').map(label),
    unevaluated: evaluation.failed.map((f) => f.condition),
    summaryQueued,
    ...delivery,
  };
}

/**
 * Send every unsent message through its channel, oldest first. A message that fails stays unsent
 * and is tried again at the next check (a later message is still sent: an SMTP outage must not
 * hold the webhook channel).
 */
export async function deliverAlertMessages(
  db: Db,
  senders: readonly AlertSender[],
  logger: Logger,
): Promise<{ sent: number; sendFailures: number }> {
  const result = { sent: 0, sendFailures: 0 };
  const byChannel = new Map(senders.map((s) => [s.channel, s]));
  for (;;) {
    const batch = await claimAlertMessages(db, [...byChannel.keys()], {
      limit: 20,
      leaseMs: 120_000,
      maxAttempts: MAX_SEND_ATTEMPTS,
    });
    if (batch.length === 0) break;
    for (const m of batch) {
      const sender = byChannel.get(m.channel)!;
      try {
        await sender.send({ subject: m.subject, body: m.body });
        await markAlertMessageSent(db, m.id);
        result.sent += 1;
      } catch (err) {
        const error = (err as Error).message;
        await markAlertMessageFailed(db, m.id, error);
        result.sendFailures += 1;
        logger.warn('alert message not sent; tried again at the next check', {
          channel: m.channel,
          to: sender.describe(),
          subject: m.subject,
          attempt: m.attempts,
          error,
        });
      }
    }
    // A failed message is unclaimed again at once; stop here instead of claiming it again in this check.
    if (result.sendFailures > 0 || batch.length < 20) break;
  }
  return result;
}
