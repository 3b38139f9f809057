import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import { type Db } from '@callsync/db';
import { forwardBacklog } from '@callsync/db/forward';
import { countSubjectsAwaitingAnalysis, latestAuditRuns } from '@callsync/db/reconcile';
import {
  agentVersionHealth,
  countChatsStuckOngoing,
  countPendingEvents,
  countSessionsByCompany,
  countSessionsGivenUp,
  countSessionsStuckInProgress,
  oldestPendingEventSeconds,
} from '@callsync/db/ops';
import { lastRetentionRunFailed } from '@callsync/db/privacy';
import { registerAgentGauges } from './agent-gauges';
import { cached } from './cached';
import { registerForwardGauges } from './forward-series';
import { registerAuditGauges } from './reconcile-series';
import { numberGauge, scrapedGauge } from './series';

export interface WatchStateOptions {
  /** How long one round of reads is shared by scrapes. Default 10 s. */
  cacheMs?: number;
  /**
   * A call in_progress longer than this counts as stuck: STALE_AFTER_MINUTES plus one
   * RECONCILE_EVERY_MINUTES, by when reconciliation should have closed it. Default 10.
   */
  stuckAfterMinutes?: number;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

/** See `Metrics.watchState`. */
export function registerStateGauges(
  registry: Registry,
  db: Db,
  queues: readonly Queue[],
  { cacheMs = 10_000, stuckAfterMinutes = 10 }: WatchStateOptions,
): void {
  const count = (name: string, help: string, read: () => Promise<number>) =>
    numberGauge(registry, name, help, cached(cacheMs, read));
  count(
    'callsync_oldest_pending_event_seconds',
    'Age of the oldest webhook_events row still pending (stored, not applied); 0 when none.',
    () => oldestPendingEventSeconds(db),
  );
  count(
    'callsync_sessions_ended_without_analysis_over_1h',
    'Calls that ended over an hour ago and still have no analysis (and are still polled by reconciliation).',
    () => countSubjectsAwaitingAnalysis(db, 'calls', minutesAgo(60)),
  );
  count('callsync_events_pending_over_5m', 'webhook_events rows pending for more than 5 minutes.', () =>
    countPendingEvents(db, minutesAgo(5)),
  );
  count(
    'callsync_sessions_stuck_in_progress',
    `Call sessions in_progress for more than ${stuckAfterMinutes} minutes (STALE_AFTER_MINUTES plus one reconcile interval) that reconciliation still polls.`,
    () => countSessionsStuckInProgress(db, minutesAgo(stuckAfterMinutes)),
  );
  count(
    'callsync_sessions_reconcile_given_up',
    'Call sessions still in_progress that reconciliation stopped polling (Retell did not know them, or checks kept failing).',
    () => countSessionsGivenUp(db),
  );
  count(
    'callsync_chats_stuck_ongoing',
    'Chat sessions ongoing for more than 60 minutes (SMS chats can run long; reconciliation asks Retell about them).',
    () => countChatsStuckOngoing(db, minutesAgo(60)),
  );
  count(
    'callsync_retention_last_run_failed',
    'The newest retention run had a step that failed (1), or not (0): caller data may outlive its period.',
    () => lastRetentionRunFailed(db),
  );
  const queueCounts = cached(cacheMs, async () =>
    Promise.all(
      queues.map(async (q) => ({
        queue: q.name,
        counts: await q
          .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized')
          .catch(() => undefined),
      })),
    ),
  );
  scrapedGauge(registry, 'callsync_queue_jobs', 'Jobs per queue and state.', ['queue', 'state'], async () =>
    (await queueCounts()).flatMap(({ queue, counts }) =>
      Object.entries(counts ?? {}).map(([state, n]) => [{ queue, state }, n] as const),
    ),
  );
  const byCompany = cached(cacheMs, () => countSessionsByCompany(db, minutesAgo(24 * 60)));
  scrapedGauge(
    registry,
    'callsync_sessions_24h',
    'Calls and chats first seen in the last 24 hours, per company (its id, or unmapped), kind and status.',
    ['company', 'kind', 'status'],
    async () => (await byCompany()).map((r) => [{ company: r.company, kind: r.kind, status: r.status }, r.sessions]),
  );
  registerForwardGauges(
    registry,
    cached(cacheMs, () => forwardBacklog(db)),
  );
  registerAuditGauges(
    registry,
    cached(cacheMs, () => latestAuditRuns(db)),
  );
  // Per agent version: heavier reads (a week of two versions per agent), so six times less often.
  registerAgentGauges(
    registry,
    cached(cacheMs * 6, () => agentVersionHealth(db, minutesAgo(7 * 24 * 60))),
  );
}
