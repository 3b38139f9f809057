import { isPermanentDatabaseError, recordDeliveries, type Db, type Delivery, type RecordedDelivery } from '@callsync/db';
import type { Logger } from '@callsync/logger';
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
}

interface Waiting {
  delivery: Delivery;
  bytes: number;
  resolve: (r: RecordedDelivery) => void;
  reject: (err: unknown) => void;
}

/** INSERTs at once when a batch is split: a few, so the pool (DATABASE_POOL_SIZE) keeps room for the next batch. */
const SPLIT_PARALLELISM = 4;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`enqueue took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

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
  private queue: Waiting[] = [];
  private writing = false;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly enqueueTimeoutMs: number;

  constructor(private readonly o: BatcherOptions) {
    this.maxBatch = o.maxBatch ?? 200;
    this.maxBatchBytes = o.maxBatchBytes ?? 8 * 1024 * 1024;
    this.enqueueTimeoutMs = o.enqueueTimeoutMs ?? 1000;
  }

  /** Resolves once the delivery's row is committed (and its job enqueued, or left to the sweeper). */
  submit(delivery: Delivery): Promise<RecordedDelivery> {
    return new Promise((resolve, reject) => {
      this.queue.push({ delivery, bytes: delivery.payloadJson.length + (delivery.rawBody?.length ?? 0), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    void this.write(this.takeBatch()).finally(() => {
      this.writing = false;
      this.pump();
    });
  }

  private takeBatch(): Waiting[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxBatch && (n === 0 || bytes + this.queue[n]!.bytes <= this.maxBatchBytes)) {
      bytes += this.queue[n]!.bytes;
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  /** Commits the batch; its jobs are enqueued (and its requests answered) while the next INSERT runs. */
  private async write(batch: Waiting[]): Promise<void> {
    let results: RecordedDelivery[];
    try {
      results = await recordDeliveries(this.o.db, batch.map((w) => w.delivery));
    } catch (err) {
      // Only bad data in one delivery is worth splitting for: an outage, a timeout or a deadlock would
      // hit every single INSERT too, and 200 of them at once would only pile onto the pool.
      if (!isPermanentDatabaseError(err) || batch.length === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // One bad delivery must not fail its neighbours: write them one by one, a few at a time, each
      // with its own outcome.
      let next = 0;
      const single = async () => {
        while (next < batch.length) {
          const w = batch[next++]!;
          await recordDeliveries(this.o.db, [w.delivery]).then(
            ([r]) => this.finish([w], [r!]),
            (e: unknown) => w.reject(e),
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(SPLIT_PARALLELISM, batch.length) }, single));
      return;
    }
    void this.finish(batch, results);
  }

  private async finish(batch: Waiting[], results: RecordedDelivery[]): Promise<void> {
    // A redelivery of a row still pending re-adds its job: a no-op if the job exists, a repair if
    // an earlier enqueue was lost. Rows already applied need nothing.
    const jobs = new Map<string, { rowId: string; callId: string; event: string }>();
    results.forEach((r, i) => {
      if (r.status === 'pending') jobs.set(r.id, { rowId: r.id, callId: batch[i]!.delivery.callId, event: batch[i]!.delivery.eventType });
    });
    if (jobs.size > 0) {
      try {
        if (this.o.redis.status !== 'ready') throw new Error(`Redis connection is ${this.o.redis.status}`);
        await withTimeout(enqueueWebhookEvents(this.o.queue, [...jobs.values()]), this.enqueueTimeoutMs);
      } catch (err) {
        this.o.logger.warn('webhooks stored but not enqueued; the outbox sweeper will pick them up', { row_ids: [...jobs.keys()], err });
      }
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }
}
