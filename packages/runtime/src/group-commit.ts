/** The outcome of one item of a batch: its result, or why it failed. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** `promise`'s outcome as a value: never rejects. */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** A promise with its resolve and reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** submit() refused the item: the backlog is at its bound. */
export class BacklogFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacklogFullError';
  }
}

/** The item was abandoned while it still waited for its batch; it was never committed. */
export class AbandonedError extends Error {
  constructor(readonly reason: string) {
    super(`abandoned before it was written: ${reason}`);
    this.name = 'AbandonedError';
  }
}

export interface GroupCommitOptions<I, O> {
  /** Commits one batch; one outcome per item, in order. Failing as a whole rejects every item. */
  commit: (items: readonly I[]) => Promise<Settled<O>[]>;
  /**
   * Runs after a batch committed, before its items are answered, without holding up the next batch
   * (the ingress enqueues jobs here). Must not throw. Default none.
   */
  afterCommit?: (items: readonly I[], outcomes: readonly Settled<O>[]) => Promise<void>;
  /** Most items per batch. */
  maxBatch: number;
  /** An item's size (e.g. bytes) for the size bounds. Default 0. */
  sizeOf?: (item: I) => number;
  /** Most size per batch; a single item always goes. Default unbounded. */
  maxBatchSize?: number;
  /** Batches committing at once. Default 1. */
  lanes?: number;
  /** Most items waiting; beyond it submit() rejects with BacklogFullError. Default unbounded. */
  maxWaiting?: number;
  /** Most size waiting (a lone item is always taken). Default unbounded. */
  maxWaitingSize?: number;
  /** The BacklogFullError's message, from the backlog at that moment. */
  describeFull?: (backlog: { items: number; size: number }) => string;
}

interface Waiting<I, O> {
  item: I;
  size: number;
  abandoned: boolean;
  /** In a batch: too late to abandon. */
  taken: boolean;
  done: Deferred<O>;
}

/** An item submitted with enter(): its outcome, and a way to give up on it while it waits. */
export interface Entry<O> {
  promise: Promise<O>;
  abandon: (reason: string) => void;
}

/**
 * Group commit: items submitted while a batch is being committed wait, and go into the next batch
 * together, so a busy caller pays one round trip per batch instead of one per item; a lone item on an
 * idle committer goes at once (no timer, no added latency). Each submit() settles only after the batch
 * holding its item committed. The backlog can be bounded, and a waiting item can be abandoned.
 */
export class GroupCommit<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private waitingCount = 0;
  private waitingSize = 0;
  private active = 0;

  constructor(private readonly options: GroupCommitOptions<I, O>) {}

  /** Items waiting for a batch, and their size. */
  backlog(): { items: number; size: number } {
    return { items: this.waitingCount, size: this.waitingSize };
  }

  /**
   * Resolves with the item's outcome once its batch committed; rejects at once with BacklogFullError
   * when the backlog is at its bound.
   */
  submit(item: I): Promise<O> {
    return this.enter(item).promise;
  }

  /**
   * submit(), with a way to give up: `abandon(reason)` rejects the item with AbandonedError if its
   * batch has not started yet, and does nothing after (once it has started, the outcome is waited
   * for). Cheaper per item than an AbortSignal and its listeners, which the ingress paid per request.
   */
  enter(item: I): Entry<O> {
    const size = this.options.sizeOf?.(item) ?? 0;
    const { maxWaiting = Infinity, maxWaitingSize = Infinity } = this.options;
    if (this.waitingCount >= maxWaiting || (this.waitingCount > 0 && this.waitingSize + size > maxWaitingSize)) {
      const message = this.options.describeFull?.(this.backlog()) ?? `backlog full (${this.waitingCount} waiting)`;
      return { promise: Promise.reject(new BacklogFullError(message)), abandon: () => undefined };
    }
    const w: Waiting<I, O> = { item, size, abandoned: false, taken: false, done: deferred<O>() };
    this.waiting.push(w);
    this.waitingCount += 1;
    this.waitingSize += size;
    if (this.active < (this.options.lanes ?? 1)) void this.lane();
    return {
      promise: w.done.promise,
      abandon: (reason) => {
        if (w.taken || w.abandoned) return; // its batch has started, or it is gone already
        w.abandoned = true;
        this.forget(w);
        w.done.reject(new AbandonedError(reason));
      },
    };
  }

  private forget(w: Waiting<I, O>): void {
    this.waitingCount -= 1;
    this.waitingSize -= w.size;
  }

  private async lane(): Promise<void> {
    this.active += 1;
    try {
      while (this.waitingCount > 0) await this.run(this.take());
    } finally {
      this.active -= 1;
    }
  }

  private take(): Waiting<I, O>[] {
    const batch: Waiting<I, O>[] = [];
    const maxBatchSize = this.options.maxBatchSize ?? Infinity;
    let size = 0;
    let i = 0;
    for (; i < this.waiting.length && batch.length < this.options.maxBatch; i++) {
      const w = this.waiting[i]!;
      if (w.abandoned) continue;
      if (batch.length > 0 && size + w.size > maxBatchSize) break;
      size += w.size;
      w.taken = true;
      batch.push(w);
      this.forget(w);
    }
    this.waiting.splice(0, i);
    return batch;
  }

  /** Commits a batch; its items are answered after afterCommit, while the next batch commits. */
  private async run(batch: Waiting<I, O>[]): Promise<void> {
    let outcomes: Settled<O>[];
    try {
      outcomes = await this.options.commit(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.done.reject(err);
      return;
    }
    const answer = () =>
      batch.forEach((w, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) w.done.resolve(outcome.value);
        else w.done.reject(outcome.error);
      });
    if (!this.options.afterCommit) return answer();
    void this.options
      .afterCommit(
        batch.map((w) => w.item),
        outcomes,
      )
      .then(answer, answer);
  }
}
