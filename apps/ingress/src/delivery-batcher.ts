import {
  isPermanentDatabaseError,
  recordDeliveries,
  type Db,
  type Delivery,
  type RecordedDelivery,
} from '@callsync/db';
import type { Logger } from '@callsync/logger';
import { mapLimit, withTimeout } from '@callsync/runtime';
import { enqueueWebhookEvents, type RedisConnection, type WebhookQueue } from '@callsync/queue';

export interface BatcherOptions {
  db: Db;
  queue: WebhookQueue;
  redis: RedisConnection;
  logger: Logger;
  /** Most deliveries per INSERT. Default 200. */
  maxBatch?: number;
  /** Most body bytes per INSERT (a long call's transcript is 5 MB). Default 8 MB. */
  maxBatchBytes?: number;
  /** Longest a request waits for Redis after its row is committed. Default 1000 ms. */
  enqueueTimeoutMs?: number;
  /** Requests that may wait for their INSERT; beyond this they are refused at once. Default 5000. */
  maxWaiting?: number;
  /** Body bytes that may wait (each waiter holds its body twice, raw and as text). Default 32 MB. */
  maxWaitingBytes?: number;
}

/** The ingress cannot take more now (the database is slow); answered with 503 and Retry-After. */
export class IngressOverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngressOverloadedError';
  }
}

/** The request gave up before its INSERT started (client gone, or its deadline passed). */
export class DeliveryAbandonedError extends Error {
  constructor(readonly reason: string) {
    super(`delivery abandoned before it was written: ${reason}`);
    this.name = 'DeliveryAbandonedError';
  }
}

interface Waiting {
  delivery: Delivery;
  bytes: number;
  /** Set when the request gave up while waiting: the INSERT leaves it out. */
  abandoned: boolean;
  resolve: (r: RecordedDelivery) => void;
  reject: (err: unknown) => void;
}

/** INSERTs at once when a batch is split: a few, so the pool (DATABASE_POOL_SIZE) keeps room for the next batch. */
const SPLIT_PARALLELISM = 4;

/**
 * Group commit for the ingress. Requests that arrive while an INSERT is running wait and go into
 * the next batch together: one multi-row INSERT and one addBulk for all of them. An idle ingress writes
 * a lone request at once (no timer, no added latency); a busy one pays one round trip per batch, not
 * per request. A request is answered only after the INSERT holding its row has committed.
 *
 * One INSERT runs at a time (on the bench, a second one only split the waiting requests into smaller
 * batches and lowered throughput). The next one starts as soon as it commits, while the last
 * batch's jobs are still being enqueued.
 */
export class DeliveryBatcher {
  private waiting: Waiting[] = [];
  /** Requests in `waiting` not abandoned, and their bytes. */
  private waitingCount = 0;
  private waitingBytes = 0;
  private writing = false;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly enqueueTimeoutMs: number;
  private readonly maxWaiting: number;
  private readonly maxWaitingBytes: number;

  constructor(private readonly options: BatcherOptions) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024;
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 1000;
    this.maxWaiting = options.maxWaiting ?? 5000;
    this.maxWaitingBytes = options.maxWaitingBytes ?? 32 * 1024 * 1024;
  }

  /** Requests waiting for an INSERT to start, and their body bytes. */
  backlog(): { requests: number; bytes: number } {
    return { requests: this.waitingCount, bytes: this.waitingBytes };
  }

  /**
   * Resolves once the delivery's row is committed (and its job enqueued, or left to the sweeper).
   * Rejects at once with IngressOverloadedError when the backlog is full, and with
   * DeliveryAbandonedError when `signal` aborts before the delivery's INSERT started (once it has
   * started, the answer waits for it).
   */
  submit(delivery: Delivery, signal?: AbortSignal): Promise<RecordedDelivery> {
    return new Promise((resolve, reject) => {
      const bytes = delivery.payloadJson.length + (delivery.rawBody?.length ?? 0);
      if (
        this.waitingCount >= this.maxWaiting ||
        (this.waitingCount > 0 && this.waitingBytes + bytes > this.maxWaitingBytes)
      ) {
        reject(
          new IngressOverloadedError(
            `ingress overloaded: ${this.waitingCount} deliveries (${Math.round(this.waitingBytes / 1024)} KB) already wait for the database`,
          ),
        );
        return;
      }
      if (signal?.aborted) {
        reject(new DeliveryAbandonedError(String(signal.reason ?? 'aborted')));
        return;
      }
      const w: Waiting = { delivery, bytes, abandoned: false, resolve, reject };
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.waiting.includes(w)) return; // already being written
          w.abandoned = true;
          this.forget(w);
          reject(new DeliveryAbandonedError(String(signal.reason ?? 'aborted')));
        },
        { once: true },
      );
      this.waiting.push(w);
      this.waitingCount += 1;
      this.waitingBytes += bytes;
      this.pump();
    });
  }

  private forget(w: Waiting): void {
    this.waitingCount -= 1;
    this.waitingBytes -= w.bytes;
  }

  private pump(): void {
    if (this.writing || this.waitingCount === 0) return;
    this.writing = true;
    void this.write(this.takeBatch()).finally(() => {
      this.writing = false;
      this.pump();
    });
  }

  private takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    let bytes = 0;
    let i = 0;
    for (; i < this.waiting.length && batch.length < this.maxBatch; i++) {
      const w = this.waiting[i]!;
      if (w.abandoned) continue;
      if (batch.length > 0 && bytes + w.bytes > this.maxBatchBytes) break;
      bytes += w.bytes;
      batch.push(w);
      this.forget(w);
    }
    this.waiting.splice(0, i);
    return batch;
  }

  /** Commits the batch; its jobs are enqueued (and its requests answered) while the next INSERT runs. */
  private async write(batch: Waiting[]): Promise<void> {
    let results: RecordedDelivery[];
    try {
      results = await recordDeliveries(
        this.options.db,
        batch.map((w) => w.delivery),
      );
    } catch (err) {
      // Only bad data in one delivery is worth splitting for: an outage, a timeout or a deadlock would
      // hit every single INSERT too, and 200 of them at once would only pile onto the pool.
      if (!isPermanentDatabaseError(err) || batch.length === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // One bad delivery must not fail its neighbours: write them one by one, a few at a time, each
      // with its own outcome.
      await mapLimit(batch, SPLIT_PARALLELISM, (w) =>
        recordDeliveries(this.options.db, [w.delivery]).then(
          ([r]) => this.finish([w], [r!]),
          (e: unknown) => w.reject(e),
        ),
      );
      return;
    }
    void this.finish(batch, results);
  }

  private async finish(batch: Waiting[], results: RecordedDelivery[]): Promise<void> {
    // A redelivery of a row still pending re-adds its job: a no-op if the job exists, a repair if
    // an earlier enqueue was lost. Rows already applied need nothing.
    const jobs = new Map<string, { rowId: string; callId: string; event: string }>();
    results.forEach((r, i) => {
      if (r.status === 'pending')
        jobs.set(r.id, { rowId: r.id, callId: batch[i]!.delivery.callId, event: batch[i]!.delivery.eventType });
    });
    if (jobs.size > 0) {
      try {
        if (this.options.redis.status !== 'ready') throw new Error(`Redis connection is ${this.options.redis.status}`);
        await withTimeout(
          enqueueWebhookEvents(this.options.queue, [...jobs.values()]),
          this.enqueueTimeoutMs,
          'enqueue',
        );
      } catch (err) {
        this.options.logger.warn('webhooks stored but not enqueued; the outbox sweeper will pick them up', {
          row_ids: [...jobs.keys()],
          err,
        });
      }
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }
}
