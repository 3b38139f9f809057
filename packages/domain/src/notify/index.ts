export { emailSender, redactUrl, webhookSender } from './channels';
export type { AlertSender, EmailSenderOptions, OutgoingMessage, WebhookSenderOptions } from './channels';
export {
  ALERT_CONDITIONS,
  auditGaps,
  destinationPaused,
  evaluateConditions,
  forwardBacklog,
  noWebhooks,
  retentionFailed,
  webhooksLost,
} from './conditions';
export type { AlertCondition, Evaluation } from './conditions';
export { deliverAlertMessages, runAlertCheck } from './notifier';
export type { AlertCheckResult, NotifierOptions } from './notifier';
export { auditSummaryLine, composeDailySummary } from './summary';
export type { DailySummary } from './summary';
