import type { Registry } from 'prom-client';
import type { DestinationGauge } from '@callsync/db/forward';
import { counter, histogram, rowGauges } from './series';

/** Forwarding to the teams' destinations, counted by the worker. */
export const forwardSeries = {
  forwardAttempts: counter(
    'callsync_forward_attempts_total',
    'Attempts at sending a delivery to a destination, by outcome (delivered, retry, failed).',
    ['destination', 'outcome'],
  ),
  forwardGateWaits: counter(
    'callsync_forward_gate_waits_total',
    "Deliveries sent back to wait in BullMQ (delayed) by their destination's rate or in-flight limit, before any claim.",
    ['destination'],
  ),
  forwardLatency: histogram(
    'callsync_forward_latency_seconds',
    'Time a destination took to answer one delivery (or to time out), by destination.',
    ['destination'],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
};

/** Forwarding's backlog per destination, from Postgres, all from one (cached) read. */
export function registerForwardGauges(registry: Registry, read: () => Promise<DestinationGauge[]>): void {
  const perDestination = rowGauges(registry, ['destination'], read, (r) => ({ destination: r.destination_id }));
  perDestination('callsync_forward_pending', 'Deliveries waiting to be sent, per destination.', (r) => r.pending);
  perDestination(
    'callsync_forward_held',
    'Deliveries held because their destination is paused, per destination.',
    (r) => r.held,
  );
  perDestination(
    'callsync_forward_breaker_state',
    'Per destination: 0 active, 1 circuit breaker open (it probes and closes itself), 2 paused until resume (operator, or a 410).',
    (r) => r.breaker_state,
  );
  perDestination(
    'callsync_forward_oldest_pending_seconds',
    'Age of the oldest delivery not yet sent (pending or held), per destination; 0 when none.',
    (r) => r.oldest_pending_seconds,
  );
  // breaker_state > 0 is a paused destination: no query of its own.
  perDestination(
    'callsync_forward_destination_paused',
    'Forwarding destinations that are paused (by an operator or their circuit breaker): 1 per paused destination.',
    (r) => (r.breaker_state > 0 ? 1 : null),
  );
}
