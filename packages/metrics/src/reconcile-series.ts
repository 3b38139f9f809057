import type { Registry } from 'prom-client';
import type { AuditRun } from '@callsync/db/reconcile';
import { counter, rowGauges, scrapedGauge } from './series';

const AUDIT_GAP_REASONS = ['no_session', 'not_final', 'not_analyzed', 'not_forwarded'] as const;

/** Reconciliation with Retell's own record: the checks and what discovery listed. */
export const reconcileSeries = {
  reconcileOutcomes: counter(
    'callsync_reconcile_calls_total',
    'Calls checked by reconciliation, by outcome (ended, ongoing, not_found, analyzed, no_analysis, failed).',
    ['outcome'],
  ),
  /** What reconciliation's discovery listed at Retell (list-calls, list-chats): Retell has calls. */
  retellListed: counter(
    'callsync_reconcile_listed_total',
    'Calls and chats Retell listed to reconciliation (list-calls, list-chats), by kind; a webhook is expected for each.',
    ['kind'],
  ),
};

/**
 * The newest completeness audit per company (audit_runs: the daily job's, or a later `make audit`).
 * Every gap reason is exported, at 0 when none, so an alert on a reason sees it appear.
 */
export function registerAuditGauges(registry: Registry, read: () => Promise<AuditRun[]>): void {
  const perCompany = rowGauges(registry, ['company'], read, (r) => ({ company: r.company }));
  perCompany(
    'callsync_audit_complete_ratio',
    'Share of the calls and chats Retell listed in the last audit that are complete here (final, analyzed, forwarded), per company; in-flight calls left out.',
    (r) => {
      const due = r.listed - r.in_flight;
      return due > 0 ? r.complete / due : 1;
    },
  );
  scrapedGauge(
    registry,
    'callsync_audit_gaps',
    'Calls and chats Retell listed in the last audit that are incomplete here for longer than the grace period, per company and reason (no_session, not_final, not_analyzed, not_forwarded).',
    ['company', 'reason'],
    async () =>
      (await read()).flatMap((r) =>
        AUDIT_GAP_REASONS.map((reason) => [{ company: r.company, reason }, r.overdue_reasons[reason] ?? 0] as const),
      ),
  );
  perCompany(
    'callsync_audit_last_run_timestamp_seconds',
    'When the last completeness audit of each company finished (unix seconds).',
    (r) => r.finished_at.getTime() / 1000,
  );
}
