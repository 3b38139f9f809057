/*
 * The call events Retell sends (its webhook documentation): defined here once; the domain's handlers,
 * the metrics' labels and the sample calls all use these lists.
 */

/** Events that move a call through its lifecycle, in lifecycle order. */
export const LIFECYCLE_EVENTS = ['call_started', 'call_ended', 'call_analyzed'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

/** Sent on every turn; each delivery is the newest snapshot of the same thing. */
export const SNAPSHOT_EVENTS: readonly string[] = ['transcript_updated'];

/** Several per call are possible, told apart by their timestamp. */
export const TRANSFER_EVENTS: readonly string[] = [
  'transfer_started',
  'transfer_bridged',
  'transfer_cancelled',
  'transfer_ended',
];

/** Every call event Retell documents. */
export const CALL_EVENTS: readonly string[] = [...LIFECYCLE_EVENTS, ...SNAPSHOT_EVENTS, ...TRANSFER_EVENTS];
