import { type Db } from '@callsync/db';
import { latestAuditRuns } from '@callsync/db/reconcile';
import {
  countDiscoveredSince,
  countReconciledEventsSince,
  findDestinationsHolding,
  findForwardBacklogs,
  latestRetentionRun,
  webhookReceivedSince,
  type FiringAlert,
} from '@callsync/db/ops';

/*
 * The conditions callsync tells about by itself, named as the alert rules in ops/prometheus/alerts.yml
 * name them, so a team that later adds Prometheus recognises them. Each is read from Postgres (the
 * source of truth), not from metrics, so one process can check them with nothing else running.
 */

export interface AlertCondition {
  /** The alert rule's name. */
  name: string;
  /** What to do, in one or two sentences (the rule's runbook, shortened). */
  runbook: string;
  /** The instances firing now (none: the condition holds nowhere). */
  evaluate(db: Db, now: Date): Promise<FiringAlert[]>;
}

const MINUTE = 60_000;
const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);
const fire = (condition: string, detail: string, subject = ''): FiringAlert => ({ condition, subject, detail });

/** Webhooks are being lost: discovery found calls or chats in the last hour that no webhook announced. */
export const webhooksLost: AlertCondition = {
  name: 'CallsyncWebhooksLost',
  runbook:
    'Retell listed calls that never reached callsync by webhook; reconciliation imported them. Check the ' +
    "agent's webhook URL in Retell, the firewall or proxy in front of the ingress, and RETELL_WEBHOOK_KEYS " +
    '(callsync_webhook_deliveries_total{outcome="bad_signature"}).',
  async evaluate(db, now) {
    const n = await countDiscoveredSince(db, ago(now, 60 * MINUTE));
    return n > 0 ? [fire(this.name, `${n} call(s) or chat(s) found only by discovery in the last hour`)] : [];
  },
};

/** No webhook deliveries for 30 minutes while reconciliation finds calls at Retell. */
export const noWebhooks: AlertCondition = {
  name: 'CallsyncNoWebhooks',
  runbook:
    'Retell has calls (reconciliation applies them) but no webhook reached callsync for 30 minutes: the ' +
    'webhook URL in Retell, DNS, TLS, a firewall or the load balancer, or every delivery fails its signature ' +
    'check. Reconciliation keeps repairing calls meanwhile, late; `make audit` shows what is missing.',
  async evaluate(db, now) {
    const since = ago(now, 30 * MINUTE);
    if (await webhookReceivedSince(db, since)) return [];
    const n = await countReconciledEventsSince(db, since);
    return n > 0
      ? [fire(this.name, `no webhook received for 30 minutes while reconciliation applied ${n} event(s) from Retell`)]
      : [];
  },
};

/** The newest audit of a company has gaps older than its grace period. */
export const auditGaps: AlertCondition = {
  name: 'CallsyncAuditGaps',
  runbook:
    'Calls Retell knows are incomplete here (no session, not final, not analyzed or not forwarded). ' +
    '`make audit ARGS="--since 24h"` lists them by id with the reason.',
  async evaluate(db) {
    const runs = await latestAuditRuns(db);
    return runs
      .filter((r) => r.overdue > 0)
      .map((r) =>
        fire(
          this.name,
          `${r.overdue} gap(s) past the grace period among ${r.listed} listed (${r.company_name ?? r.company})`,
          r.company,
        ),
      );
  },
};

/** The newest retention run had a step that failed. */
export const retentionFailed: AlertCondition = {
  name: 'CallsyncRetentionFailed',
  runbook:
    'Caller data may outlive its documented period. `make stats` prints the newest run’s error; the next ' +
    'daily run retries every step.',
  async evaluate(db) {
    const run = await latestRetentionRun(db);
    return run?.error ? [fire(this.name, `retention run ${run.id} failed: ${run.error.slice(0, 200)}`)] : [];
  },
};

/** A condition firing once per destination that `find` returns for `since` before now. */
function perDestination<R extends { destination_id: string }>(
  condition: Pick<AlertCondition, 'name' | 'runbook'>,
  sinceMs: number,
  find: (db: Db, since: Date) => Promise<R[]>,
  detail: (row: R, now: Date) => string,
): AlertCondition {
  return {
    ...condition,
    async evaluate(db, now) {
      const rows = await find(db, ago(now, sinceMs));
      return rows.map((d) => fire(condition.name, detail(d, now), d.destination_id));
    },
  };
}

/** A forwarding destination paused, or holding deliveries, for over 15 minutes. */
export const destinationPaused: AlertCondition = perDestination(
  {
    name: 'CallsyncForwardDestinationPaused',
    runbook:
      '`make destinations ARGS=list` shows why it is paused. Once the receiver works, ' +
      '`make destinations ARGS="resume ID"` sends everything held, in order per call.',
  },
  15 * MINUTE,
  findDestinationsHolding,
  (d) =>
    `destination ${d.destination_id} (${d.host}) is ${d.state}` +
    (d.paused_reason ? ` (${d.paused_reason.slice(0, 100)})` : '') +
    `, holding ${d.held} deliver${d.held === 1 ? 'y' : 'ies'}`,
);

/** A destination's oldest pending delivery is over 30 minutes old. */
export const forwardBacklog: AlertCondition = perDestination(
  {
    name: 'CallsyncForwardBacklog',
    runbook:
      'The receiver keeps failing, or an earlier delivery of a call blocks the ones after it. forward_attempts ' +
      'has each try’s status and error; `make destinations ARGS=list`.',
  },
  30 * MINUTE,
  findForwardBacklogs,
  (d, now) =>
    `destination ${d.destination_id} (${d.host}): ${d.pending} pending, the oldest for ` +
    `${Math.floor((now.getTime() - d.oldest_pending_at.getTime()) / MINUTE)} minutes`,
);

/** Every condition, in the order messages list them. */
export const ALERT_CONDITIONS: readonly AlertCondition[] = [
  webhooksLost,
  noWebhooks,
  auditGaps,
  retentionFailed,
  destinationPaused,
  forwardBacklog,
];

export interface Evaluation {
  /** Conditions whose query answered (only these can end at this check). */
  evaluated: string[];
  firing: FiringAlert[];
  /** Conditions whose query failed, with the error: their state stays as it was. */
  failed: { condition: string; error: string }[];
}

/** Evaluate every condition; one that fails is reported and left out, the others still count. */
export async function evaluateConditions(
  db: Db,
  conditions: readonly AlertCondition[],
  now: Date,
): Promise<Evaluation> {
  const result: Evaluation = { evaluated: [], firing: [], failed: [] };
  for (const c of conditions) {
    try {
      result.firing.push(...(await c.evaluate(db, now)));
      result.evaluated.push(c.name);
    } catch (err) {
      result.failed.push({ condition: c.name, error: (err as Error).message });
    }
  }
  return result;
}
