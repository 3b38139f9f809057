/*
 * Forwarding applied events to the team's destinations, one operation per file (graphile-worker's
 * src/sql/ is the model), so this list reads as the subsystem's table of contents:
 * - destinations: add, find, list, pause, resume (and release), remove, rotate the secret;
 * - the outbox and its chains: queue forwards in the applying transaction (replacing unsent
 *   transcripts), chain heads;
 * - sending: claim under a lease, record the attempt (applying the pure breaker's verdict), what is
 *   leased (in flight, for the forward gate when Redis lost its count);
 * - the sweeper and replay: stranded held deliveries, overdue heads, replaying finished ones;
 * - reads for the console, metrics and `make chaos`.
 * Internals (batching, leases, probes, SQL fragments) stay in their files.
 */
export type {
  DestinationState,
  ForwardAttempt,
  ForwardDelivery,
  ForwardDestination,
  ForwardStatus,
  PausedBy,
  PayloadMode,
} from '../forward.table';

export { addDestination, type NewDestination } from './add-destination';
export { findDestination } from './find-destination';
export { listDestinations, type DestinationSummary } from './list-destinations';
export { pauseDestination } from './pause-destination';
export { holdPendingDeliveries } from './hold-release';
export { resumeDestination } from './resume-destination';
export { releaseDestination } from './release-destination';
export { removeDestination } from './remove-destination';
export { rotateDestinationSecret } from './rotate-destination-secret';

export { queueForwards, type QueuedForward } from './queue-forwards';
export type { ForwardHead } from './chain-heads';

export { claimDelivery, type ClaimResult } from './claim-delivery';
export { extendLease, releaseDelivery, type ClaimedDelivery } from './lease-delivery';
export { recordAttempt, type AttemptOutcome, type AttemptRecorded } from './record-attempt';
export { findLeasedDeliveries, type LeasedDelivery } from './in-flight';
export type { BreakerDecision, BreakerView } from './breaker-record';

export { releaseStrandedHeld } from './release-stranded-held';
export { findOverdueHeads } from './find-overdue-heads';
export { findDeliveriesToReplay, markDeliveriesForReplay } from './replay-deliveries';

export { appliedAndDelivered, findAttempts, findDeliveriesOf, findDeliveriesTo } from './delivery-reads';
export { forwardBacklog, type DestinationGauge } from './forward-backlog';
