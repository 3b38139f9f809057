import type { Queue } from 'bullmq';
import { collectDefaultMetrics } from 'prom-client';
import type { Db } from '@callsync/db';
import { cached } from './cached';
import { forwardSeries } from './forward-series';
import { KNOWN_EVENTS } from './labels';
import { liveSeries } from './live-series';
import { reconcileSeries } from './reconcile-series';
import { numberGauge, withSeries } from './series';
import { registerStateGauges, type WatchStateOptions } from './state-gauges';
import { webhookSeries } from './webhook-series';

/**
 * Every series callsync exports, on one registry per process. The series are declared by area
 * (webhook-series.ts, live-series.ts, forward-series.ts, reconcile-series.ts) and each is a field
 * of the same name here (`metrics.deliveries`); the gauges read on scrape are added by the watch
 * methods (state-gauges.ts).
 */
export class Metrics extends withSeries({ ...webhookSeries, ...liveSeries, ...reconcileSeries, ...forwardSeries }) {
  /** `processMetrics`: also export the process's own (memory, CPU, event loop). Default true. */
  constructor(service: string, { processMetrics = true }: { processMetrics?: boolean } = {}) {
    super();
    this.registry.setDefaultLabels({ service });
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'callsync_' });
    // The series alerts watch exist from the start at 0, so increase() sees the first failure (a
    // counter that appears at 1 has no earlier sample to increase from).
    for (const event of [...KNOWN_EVENTS, 'other']) this.eventsHandled.inc({ event, outcome: 'failed' }, 0);
    this.deliveries.inc({ event: 'unknown', outcome: 'bad_signature' }, 0);
    this.reconcileOutcomes.inc({ outcome: 'failed' }, 0);
    this.reconcileOutcomes.inc({ outcome: 'discovered' }, 0);
    for (const kind of ['calls', 'chats']) this.retellListed.inc({ kind }, 0);
  }

  /**
   * State read on each scrape: queue depth per state, rows pending for over 5 minutes, sessions
   * stuck in_progress for over 10 minutes (sql/reports/stale-sessions.sql), forwarding's backlog, the
   * last audits, agent versions. A failed read leaves the gauge unset for that scrape rather than
   * failing /metrics.
   *
   * The reads are cached for `cacheMs` (default 10 s) and shared by concurrent scrapes, so however
   * often /metrics is asked, Postgres and Redis see at most one round of these queries per interval.
   */
  watchState(db: Db, queues: readonly Queue[], options: WatchStateOptions = {}): void {
    registerStateGauges(this.registry, db, queues, options);
  }

  /**
   * callsync_ready: the process's own /readyz as a series (1 ready, 0 not), so an alert can see it;
   * checked on scrape, at most every `cacheMs`.
   */
  watchReadiness(ready: () => Promise<boolean>, { cacheMs = 5_000 }: { cacheMs?: number } = {}): void {
    const read = cached(cacheMs, () => ready().catch(() => false));
    numberGauge(
      this.registry,
      'callsync_ready',
      'Whether the process could do its work at the last check (what its /readyz says): 1 ready, 0 not.',
      async () => ((await read()) ? 1 : 0),
    );
  }

  /** The ingress's deliveries waiting for the database (bounded; beyond the bound they get 503). */
  watchBacklog(backlog: () => { requests: number; bytes: number }): void {
    numberGauge(
      this.registry,
      'callsync_ingress_waiting_requests',
      'Webhook deliveries waiting for their INSERT.',
      async () => backlog().requests,
    );
    numberGauge(
      this.registry,
      'callsync_ingress_waiting_bytes',
      'Body bytes of the webhook deliveries waiting for their INSERT.',
      async () => backlog().bytes,
    );
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
