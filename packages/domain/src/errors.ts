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
