/**
 * An event that no retry can fix (its payload is unusable). The worker marks the row `failed`
 * at once instead of retrying.
 */
export class PermanentEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentEventError';
  }
}

/**
 * A row that is not applied yet but could not be claimed now: another transaction holds it (a worker
 * taking over a stalled job, a redelivery being counted). Transient: the row stays `pending` whatever
 * the attempt, and a later try (or the outbox sweeper) applies it.
 */
export class RowBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowBusyError';
  }
}
