import { type Db } from '@callsync/db';
import { notifyCallsStarted, type StartedCall } from '@callsync/db/tenants';
import type { Logger } from '@callsync/logger';

/*
 * After a call_started is acknowledged: NOTIFY callsync_calls with the call's parties, so every live
 * route (this process's, the live process's) resolves the caller's context before the call's first
 * function. After the answer, never awaited, and in groups (whatever arrived while the last NOTIFY
 * ran goes in one statement): the webhook path neither waits on a prefetch nor pays a statement per call.
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** Announcements waiting at most (Postgres away); more are dropped: a prefetch is an optimisation. */
const MAX_WAITING = 5000;

export class CallAnnouncer {
  private waiting: StartedCall[] = [];
  private sending: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** The body of an acknowledged call_started, as the webhook route parsed it. */
  announce(body: unknown): void {
    const call = isObject(body) && isObject(body.call) ? body.call : undefined;
    if (!call || typeof call.call_id !== 'string' || this.waiting.length >= MAX_WAITING) return;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    this.waiting.push({
      call_id: call.call_id,
      agent_id: text(call.agent_id),
      direction: text(call.direction),
      from_number: text(call.from_number),
      to_number: text(call.to_number),
    });
    if (!this.sending) this.sending = this.send();
  }

  private async send(): Promise<void> {
    try {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        await notifyCallsStarted(this.db, batch).catch((err: Error) =>
          this.logger.debug('call_started not announced to the live routes', { count: batch.length, err: err.message }),
        );
      }
    } finally {
      this.sending = null;
    }
  }
}
