import { type Db } from '@callsync/db';
import { finishInvocations, type AnsweredResult } from '@callsync/db/live';
import type { Logger } from '@callsync/logger';
import { sleep, type FunctionAnswer } from './invocation';

/*
 * The records an answer does not wait for. A function's result (and a replay's count) is written to
 * function_calls after the answer is handed back, not before: under load every statement on an
 * answer's path queues for the live pool (docs/performance.md), and this one is on every call.
 *
 * Why that keeps the guarantees: the invocation's row was claimed (`running`, under its key) before
 * the handler ran, and the answer stays in this process's memory until the row holds it. So
 *   - a retry in this process is answered from memory (`answered`), never run again;
 *   - a retry in another process finds the row `running` and polls it until the result lands
 *     (milliseconds later), then answers the recorded result;
 *   - if this process dies in between, the row stays `running`, as it would had it died during the
 *     handler: a retry waits, and only past twice the timeout is it taken as abandoned and run again.
 *     Retell retries only an attempt it got no answer to, and this one it has.
 *   - a write Postgres refuses is retried for about a minute, the answer kept in memory meanwhile.
 * Failures (5xx, 504) are still recorded before their answer: their retries must see them.
 * Results go in groups, as inbound records do (apps/ingress live-record.ts): a group gathers for
 * AFTER_ANSWER_GATHER_MS from its first result, and whatever was answered meanwhile (and while it was
 * written) goes in one statement. Written at once, the groups held one result each at 200 calls/s
 * (`make bench --probe-live`: two statements per call), so the records took as many of the live
 * pool's turns as the answers did.
 */

/**
 * How long a group of records after their answers gathers before it is written: nobody waits on it
 * but a retry in another process (which polls for it), and a shutdown (which writes what is left).
 */
export const AFTER_ANSWER_GATHER_MS = 25;

/** Answers kept while their record is not written, at most (Postgres away): the oldest go first. */
const MAX_KEPT = 10_000;

export class ResultRecords {
  /** Answers whose record Postgres does not hold yet, by function_calls id. */
  private readonly kept = new Map<string, FunctionAnswer>();
  /** Writes and other work after the answer: `settled()` waits for them. */
  private readonly background = new Set<Promise<unknown>>();
  /** Results answered and not being written yet; `writing` while a group is. */
  private waiting: AnsweredResult[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly gatherMs = AFTER_ANSWER_GATHER_MS,
  ) {}

  /** The answer of invocation `id` if its record is not written yet. */
  answered(id: string): FunctionAnswer | undefined {
    return this.kept.get(id);
  }

  /**
   * Keep `answer` for its invocation and write `result` once the answer is on its way: in a group that
   * gathers for `gatherMs`, so the route has long handed the answer to the socket.
   */
  afterAnswer(answer: FunctionAnswer, result: AnsweredResult): void {
    if (this.kept.size >= MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(result.id, answer);
    this.waiting.push(result);
    if (!this.writing) this.writing = this.track(this.flush());
  }

  private async flush(): Promise<void> {
    try {
      await sleep(this.gatherMs);
      while (this.waiting.length) {
        const group = this.waiting;
        this.waiting = [];
        try {
          await finishInvocations(this.db, group);
          for (const r of group) this.kept.delete(r.id);
        } catch (err) {
          this.logger.warn('functions answered, their results not recorded yet; retrying the records', {
            count: group.length,
            err: (err as Error).message,
          });
          for (const r of group) this.track(this.recordLater(r.id, () => finishInvocations(this.db, [r])));
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /** Work that need not precede the answer (a replay's count, a mark): after it, failures logged. */
  later(what: string, work: () => Promise<unknown>, log: Record<string, unknown>): void {
    this.track(
      (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        await work().catch((err: Error) => this.logger.warn(what, { ...log, err: err.message }));
      })(),
    );
  }

  /** Work to wait for in `settled()` (a handler finishing after its pending message). */
  track<T>(p: Promise<T>): Promise<T> {
    this.background.add(p);
    void p.finally(() => this.background.delete(p)).catch(() => undefined);
    return p;
  }

  /** Until everything started so far has ended. */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  /** Write a result Postgres refused, a few times over about a minute; kept in memory until then. */
  private async recordLater(id: string, write: () => Promise<unknown>): Promise<void> {
    for (const waitMs of [500, 2000, 5000, 15_000, 40_000]) {
      await sleep(waitMs);
      try {
        await write();
        this.kept.delete(id);
        return;
      } catch {
        // Still unreachable: try again later; the answer stays in memory for retries meanwhile.
      }
    }
    this.logger.error('function result never recorded; a retry in another process may run it again', {
      function_call_id: id,
    });
    this.kept.delete(id);
  }
}
