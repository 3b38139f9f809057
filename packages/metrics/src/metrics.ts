import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  agentVersionHealth,
  countChatsStuckOngoing,
  countPendingEvents,
  countSessionsByCompany,
  countSessionsAwaitingAnalysis,
  countSessionsStuckInProgress,
  countSessionsGivenUp,
  forwardBacklog,
  oldestPendingEventSeconds,
  type Db,
  type DestinationGauge,
  lastRetentionRunFailed,
  latestAuditRuns,
  type AuditRun,
} from '@callsync/db';
import { WEBHOOK_EVENTS } from '@callsync/retell';
import { registerAgentGauges } from './agent-gauges';

const KNOWN_EVENTS = new Set(WEBHOOK_EVENTS);
const AUDIT_GAP_REASONS = ['no_session', 'not_final', 'not_analyzed', 'not_forwarded'] as const;

/** Event names come from request bodies; keep label values to a known set. */
export function eventLabel(event: string | undefined): string {
  if (!event) return 'unknown';
  return KNOWN_EVENTS.has(event) ? event : 'other';
}

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'bad_signature' | 'invalid' | 'unavailable';
export type HandlingOutcome = 'processed' | 'skipped' | 'failed' | 'retry' | 'already_final';

/** The delivery outcome an answer stands for, when the route did not say. */
export function outcomeForStatus(status: number): DeliveryOutcome | 'error' {
  if (status === 401) return 'bad_signature';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid';
  if (status < 300) return 'accepted';
  return 'error';
}

/**
 * `read` at most once per `ttlMs`: callers within the interval get the last result, and callers
 * while a read runs share it. A failed read is not kept.
 */
function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ttlMs) return last.value;
    const value = read();
    const entry = { at: now, value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}

/** Every series callsync exports, on one registry per process. */
export class Metrics {
  readonly registry = new Registry();

  readonly deliveries = new Counter({
    name: 'callsync_webhook_deliveries_total',
    help: 'Webhook deliveries by event and outcome (accepted, duplicate, bad_signature, invalid, unavailable).',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly ackLatency = new Histogram({
    name: 'callsync_webhook_ack_seconds',
    help: 'Time from request to answer on the webhook path, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Answers given during a call: inbound webhooks, functions, the context API. */
  readonly liveLatency = new Histogram({
    name: 'callsync_live_request_seconds',
    help: 'Time to answer requests made during a call, by endpoint (inbound, function, context), name and outcome.',
    labelNames: ['endpoint', 'name', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly liveErrors = new Counter({
    name: 'callsync_live_request_errors_total',
    help: 'Requests during a call answered with an error or a fallback, by endpoint, name and outcome.',
    labelNames: ['endpoint', 'name', 'outcome'] as const,
    registers: [this.registry],
  });

  /** The public edge's refusals before a body is accepted (issue 27). */
  readonly edgeRefusals = new Counter({
    name: 'callsync_ingress_refused_total',
    help: 'Requests the ingress refused before accepting their body, by reason (bad_signature, throttled, too_large, unverified_full, body_timeout).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly eventsHandled = new Counter({
    name: 'callsync_events_handled_total',
    help: 'Webhook events handled by workers, by event type and outcome (processed, skipped, failed, retry).',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly processingDuration = new Histogram({
    name: 'callsync_event_processing_seconds',
    help: 'Time to apply one event (one transaction), by event type.',
    labelNames: ['event'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly reconcileOutcomes = new Counter({
    name: 'callsync_reconcile_calls_total',
    help: 'Calls checked by reconciliation, by outcome (ended, ongoing, not_found, analyzed, no_analysis, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly forwardAttempts = new Counter({
    name: 'callsync_forward_attempts_total',
    help: 'Attempts at sending a delivery to a destination, by outcome (delivered, retry, failed).',
    labelNames: ['destination', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly forwardGateWaits = new Counter({
    name: 'callsync_forward_gate_waits_total',
    help: "Deliveries sent back to wait in BullMQ (delayed) by their destination's rate or in-flight limit, before any claim.",
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  readonly forwardLatency = new Histogram({
    name: 'callsync_forward_latency_seconds',
    help: 'Time a destination took to answer one delivery (or to time out), by destination.',
    labelNames: ['destination'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** What reconciliation's discovery listed at Retell (list-calls, list-chats): Retell has calls. */
  readonly retellListed = new Counter({
    name: 'callsync_reconcile_listed_total',
    help: 'Calls and chats Retell listed to reconciliation (list-calls, list-chats), by kind; a webhook is expected for each.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** `processMetrics`: also export the process's own (memory, CPU, event loop). Default true. */
  constructor(service: string, { processMetrics = true }: { processMetrics?: boolean } = {}) {
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
   * stuck in_progress for over 10 minutes (sql/reports/stale-sessions.sql). A failed read leaves the gauge
   * unset for that scrape rather than failing /metrics.
   *
   * The reads are cached for `cacheMs` (default 10 s) and shared by concurrent scrapes, so however
   * often /metrics is asked, Postgres and Redis see at most one round of these queries per interval.
   */
  watchState(
    db: Db,
    queues: readonly Queue[],
    {
      cacheMs = 10_000,
      stuckAfterMinutes = 10,
    }: {
      cacheMs?: number;
      /**
       * A call in_progress longer than this counts as stuck: STALE_AFTER_MINUTES plus one
       * RECONCILE_EVERY_MINUTES, by when reconciliation should have closed it. Default 10.
       */
      stuckAfterMinutes?: number;
    } = {},
  ): void {
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
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const byCompany = cached(cacheMs, () => countSessionsByCompany(db, minutesAgo(24 * 60)));
    const forwards = cached(cacheMs, () => forwardBacklog(db));
    const count = (name: string, help: string, read: () => Promise<number>) =>
      this.numberGauge(name, help, cached(cacheMs, read));
    count(
      'callsync_oldest_pending_event_seconds',
      'Age of the oldest webhook_events row still pending (stored, not applied); 0 when none.',
      () => oldestPendingEventSeconds(db),
    );
    count(
      'callsync_sessions_ended_without_analysis_over_1h',
      'Calls that ended over an hour ago and still have no analysis (and are still polled by reconciliation).',
      () => countSessionsAwaitingAnalysis(db, minutesAgo(60)),
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
    new Gauge({
      name: 'callsync_queue_jobs',
      help: 'Jobs per queue and state.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { queue, counts } of await queueCounts()) {
          for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue, state }, n);
        }
      },
    });
    new Gauge({
      name: 'callsync_sessions_24h',
      help: 'Calls and chats first seen in the last 24 hours, per company (its id, or unmapped), kind and status.',
      labelNames: ['company', 'kind', 'status'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await byCompany().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ company: r.company, kind: r.kind, status: r.status }, r.sessions);
      },
    });
    this.watchForwards(forwards);
    this.watchAudit(cached(cacheMs, () => latestAuditRuns(db)));
    new Gauge({
      name: 'callsync_forward_destination_paused',
      help: 'Forwarding destinations that are paused (by an operator or their circuit breaker): 1 per paused destination.',
      labelNames: ['destination'] as const,
      registers: [this.registry],
      // From the backlog read above (breaker_state > 0 is a paused destination): no query of its own.
      async collect() {
        const rows = await forwards().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) if (r.breaker_state > 0) this.set({ destination: r.destination_id }, 1);
      },
    });
    // Per agent version: heavier reads (a week of two versions per agent), so six times less often.
    registerAgentGauges(
      this.registry,
      cached(cacheMs * 6, () => agentVersionHealth(db, minutesAgo(7 * 24 * 60))),
    );
  }

  /** A gauge of one number read on scrape; a failed read leaves it unset for that scrape. */
  private numberGauge(name: string, help: string, read: () => Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const n = await read().catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    });
  }

  /** Forwarding's backlog per destination, from Postgres (cached like the rest of watchState). */
  private watchForwards(read: () => Promise<DestinationGauge[]>): void {
    const gauge = (name: string, help: string, value: (g: DestinationGauge) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['destination'] as const,
        registers: [this.registry],
        async collect() {
          const rows = await read().catch(() => undefined);
          if (!rows) return;
          this.reset();
          for (const r of rows) this.set({ destination: r.destination_id }, value(r));
        },
      });
    gauge('callsync_forward_pending', 'Deliveries waiting to be sent, per destination.', (r) => r.pending);
    gauge(
      'callsync_forward_held',
      'Deliveries held because their destination is paused, per destination.',
      (r) => r.held,
    );
    gauge(
      'callsync_forward_breaker_state',
      'Per destination: 0 active, 1 circuit breaker open (it probes and closes itself), 2 paused until resume (operator, or a 410).',
      (r) => r.breaker_state,
    );
    gauge(
      'callsync_forward_oldest_pending_seconds',
      'Age of the oldest delivery not yet sent (pending or held), per destination; 0 when none.',
      (r) => r.oldest_pending_seconds,
    );
  }

  /**
   * The newest completeness audit per company (audit_runs: the daily job's, or a later `make audit`).
   * Every gap reason is exported, at 0 when none, so an alert on a reason sees it appear.
   */
  private watchAudit(read: () => Promise<AuditRun[]>): void {
    new Gauge({
      name: 'callsync_audit_complete_ratio',
      help: 'Share of the calls and chats Retell listed in the last audit that are complete here (final, analyzed, forwarded), per company; in-flight calls left out.',
      labelNames: ['company'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await read().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) {
          const due = r.listed - r.in_flight;
          this.set({ company: r.company }, due > 0 ? r.complete / due : 1);
        }
      },
    });
    new Gauge({
      name: 'callsync_audit_gaps',
      help: 'Calls and chats Retell listed in the last audit that are incomplete here for longer than the grace period, per company and reason (no_session, not_final, not_analyzed, not_forwarded).',
      labelNames: ['company', 'reason'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await read().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows)
          for (const reason of AUDIT_GAP_REASONS)
            this.set({ company: r.company, reason }, r.overdue_reasons[reason] ?? 0);
      },
    });
    new Gauge({
      name: 'callsync_audit_last_run_timestamp_seconds',
      help: 'When the last completeness audit of each company finished (unix seconds).',
      labelNames: ['company'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await read().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ company: r.company }, r.finished_at.getTime() / 1000);
      },
    });
  }

  /**
   * callsync_ready: the process's own /readyz as a series (1 ready, 0 not), so an alert can see it;
   * checked on scrape, at most every `cacheMs`.
   */
  watchReadiness(ready: () => Promise<boolean>, { cacheMs = 5_000 }: { cacheMs?: number } = {}): void {
    const read = cached(cacheMs, () => ready().catch(() => false));
    new Gauge({
      name: 'callsync_ready',
      help: 'Whether the process could do its work at the last check (what its /readyz says): 1 ready, 0 not.',
      registers: [this.registry],
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  /** The ingress's deliveries waiting for the database (bounded; beyond the bound they get 503). */
  watchBacklog(backlog: () => { requests: number; bytes: number }): void {
    new Gauge({
      name: 'callsync_ingress_waiting_requests',
      help: 'Webhook deliveries waiting for their INSERT.',
      registers: [this.registry],
      collect() {
        this.set(backlog().requests);
      },
    });
    new Gauge({
      name: 'callsync_ingress_waiting_bytes',
      help: 'Body bytes of the webhook deliveries waiting for their INSERT.',
      registers: [this.registry],
      collect() {
        this.set(backlog().bytes);
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
