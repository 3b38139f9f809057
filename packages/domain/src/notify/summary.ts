import { type Db } from '@callsync/db';
import { latestAuditRuns, type AuditRun } from '@callsync/db/reconcile';
import { findActiveAlerts, processingRate, staleSessions, type ProcessingRate } from '@callsync/db/ops';

/*
 * The daily health summary: what the seed's team wanted in their mailbox every morning (its "24h
 * Monitoring" cron), that is its two reports, plus the completeness audit and what is wrong now.
 */

/** The seed's stale-sessions report counted calls in progress for over 10 minutes. */
const STALE_MINUTES = 10;
/** Stale calls listed by id; the count is always exact. */
const STALE_LISTED = 10;

function table(rows: readonly ProcessingRate[]): string {
  if (rows.length === 0) return '  (no webhook events in the last 24 hours)';
  const head = ['event_type', 'total', 'processed', 'pending', 'failed', 'success %'];
  const body = rows.map((r) => [
    r.event_type,
    String(r.total),
    String(r.processed),
    String(r.pending),
    String(r.failed),
    r.success_rate.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/**
 * The newest audit of every company, summed into one line worded as `make audit` words its summary
 * (the daily audit job and `make audit` write the runs, migration 0022).
 */
export function auditSummaryLine(runs: readonly AuditRun[]): string {
  if (runs.length === 0) return 'Audit: no run yet (the daily audit job, or `make audit`, writes one)';
  const sum = (f: (r: AuditRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  const newest = runs.reduce((a, b) => (a.finished_at > b.finished_at ? a : b));
  return (
    `Audit (newest ${newest.finished_at.toISOString()}): listed ${sum((r) => r.listed)}, ` +
    `complete ${sum((r) => r.complete)}, in flight ${sum((r) => r.in_flight)}, gaps ${sum((r) => r.gaps)} ` +
    `(${sum((r) => r.overdue)} older than the grace period)`
  );
}

export interface DailySummary {
  subject: string;
  body: string;
}

/** The summary for the 24 hours up to now. */
export async function composeDailySummary(db: Db, now: Date): Promise<DailySummary> {
  const [rates, stale, audit, active] = await Promise.all([
    processingRate(db, '24 hours'),
    staleSessions(db, STALE_MINUTES),
    latestAuditRuns(db),
    findActiveAlerts(db),
  ]);
  const failed = rates.reduce((n, r) => n + r.failed, 0);
  const staleLines = stale
    .slice(0, STALE_LISTED)
    .map((s) => `  ${s.call_id}  started ${s.started_at.toISOString()}, ${s.minutes_stuck} min`);
  if (stale.length > STALE_LISTED) staleLines.push(`  ... and ${stale.length - STALE_LISTED} more (make stats)`);
  const problems = active.length + (failed > 0 ? 1 : 0) + (stale.length > 0 ? 1 : 0);
  const body = [
    `callsync health for the 24 hours up to ${now.toISOString()}`,
    '',
    'Webhook processing rate, last 24 hours (sql/reports/processing-rate.sql):',
    table(rates),
    '',
    `Calls in progress for over ${STALE_MINUTES} minutes (sql/reports/stale-sessions.sql): ${stale.length}`,
    ...staleLines,
    '',
    auditSummaryLine(audit),
    '',
    active.length === 0
      ? 'Alerts active now: none'
      : `Alerts active now: ${active.length}\n` +
        active
          .map(
            (a) =>
              `  ${a.condition}${a.subject ? ` [${a.subject}]` : ''} since ${a.changed_at.toISOString()}: ${a.detail ?? ''}`,
          )
          .join('\n'),
  ].join('\n');
  const day = now.toISOString().slice(0, 10);
  return {
    subject: `[callsync] Daily health ${day}: ${problems === 0 ? 'all well' : `${problems} thing(s) to look at`}`,
    body,
  };
}
