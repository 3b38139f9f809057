import { type Db } from '@callsync/db';
import { recordAnsweredEvents, type AnsweredEvent } from '@callsync/db/live';
import { AFTER_ANSWER_GATHER_MS } from '@callsync/domain';
import type { Logger } from '@callsync/logger';

/*
 * Inbound webhooks are recorded after their answer. One INSERT per request made every answer share
 * the live pool with as many record writes; under load the records queued ahead of the next caller's
 * query. Records now go in groups: a group gathers for AFTER_ANSWER_GATHER_MS from its first record,
 * and whatever arrived meanwhile (and while it was written) goes in one statement (a request repeated
 * within a group counts as its deliveries).
 *
 * Why after the answer is safe (nothing acknowledged is lost): an inbound webhook is a question, not
 * a delivery to process later. Its answer is the routing itself, and Retell has it once it is sent;
 * the call's own events (call_started, call_ended, ...) arrive as webhooks at the ingress, which stores
 * each before acknowledging it. What a crash between answer and record can lose is the record of the
 * answer: the console's line for it, and the answer a retry of the same call_inbound would be given
 * again. Retell retries only a request it got no answer to, and such a retry is routed afresh, from
 * the same routing and the same caller history: the same answer but for a change made in between.
 */

/** Records waiting at most (Postgres away); beyond it the oldest are dropped, with a warning. */
const MAX_WAITING = 10_000;

export class AnswerRecorder {
  private waiting: Omit<AnsweredEvent, 'deliveries'>[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly gatherMs = AFTER_ANSWER_GATHER_MS,
  ) {}

  record(event: Omit<AnsweredEvent, 'deliveries'>): void {
    if (this.waiting.length >= MAX_WAITING) {
      this.waiting.shift();
      this.logger.warn('inbound webhook answered but not recorded: too many records waiting for Postgres');
    }
    this.waiting.push(event);
    if (!this.writing) this.writing = this.flush();
  }

  /** Until everything recorded so far is written (or given up on). */
  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    try {
      await new Promise((resolve) => setTimeout(resolve, this.gatherMs));
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        const byKey = new Map<string, AnsweredEvent>();
        for (const e of batch) {
          const seen = byKey.get(e.dedupeKey);
          if (seen) {
            seen.deliveries += 1;
            seen.answer ??= e.answer;
          } else byKey.set(e.dedupeKey, { ...e, deliveries: 1 });
        }
        await recordAnsweredEvents(this.db, [...byKey.values()]).catch((err: Error) =>
          this.logger.warn('inbound webhooks answered but not recorded', { count: byKey.size, err: err.message }),
        );
      }
    } finally {
      this.writing = null;
    }
  }
}
