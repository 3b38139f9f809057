import { isPermanentDatabaseError, type Db } from '@callsync/db';
import { recordDeliveries, type Delivery, type RecordedDelivery } from '@callsync/db/events';
import type { Logger } from '@callsync/logger';
import {
  enqueueWebhookBatch,
  webhookJobData,
  type RedisConnection,
  type WebhookJobData,
  type WebhookQueue,
} from '@callsync/queue';
import { GroupCommit, mapLimit, settle, withTimeout, type Entry, type Settled } from '@callsync/runtime';

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

/** INSERTs at once when a batch is split: a few, so the pool (DATABASE_POOL_SIZE) keeps room for the next batch. */
const SPLIT_PARALLELISM = 4;

/**
 * Group commit for the ingress (see GroupCommit). Requests that arrive while an INSERT is running go
 * into the next batch together: one multi-row INSERT and one addBulk for all of them. A request is
 * answered only after the INSERT holding its row has committed.
 *
 * One INSERT runs at a time (on the bench, a second one only split the waiting requests into smaller
 * batches and lowered throughput). The next one starts as soon as it commits, while the last
 * batch's jobs are still being enqueued. Beyond maxWaiting / maxWaitingBytes a request is refused
 * at once (BacklogFullError), and one whose client gave up leaves the backlog (AbandonedError).
 */
export class DeliveryBatcher {
  private readonly group: GroupCommit<Delivery, RecordedDelivery>;
  private readonly enqueueTimeoutMs: number;

  constructor(private readonly options: BatcherOptions) {
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 1000;
    this.group = new GroupCommit({
      commit: (deliveries) => this.record(deliveries),
      afterCommit: (deliveries, outcomes) => this.enqueue(deliveries, outcomes),
      maxBatch: options.maxBatch ?? 200,
      sizeOf: (d) => d.payloadJson.length + (d.rawBody?.length ?? 0),
      maxBatchSize: options.maxBatchBytes ?? 8 * 1024 * 1024,
      maxWaiting: options.maxWaiting ?? 5000,
      maxWaitingSize: options.maxWaitingBytes ?? 32 * 1024 * 1024,
      describeFull: ({ items, size }) =>
        `ingress overloaded: ${items} deliveries (${Math.round(size / 1024)} KB) already wait for the database`,
    });
  }

  /** Requests waiting for an INSERT to start, and their body bytes. */
  backlog(): { requests: number; bytes: number } {
    const { items, size } = this.group.backlog();
    return { requests: items, bytes: size };
  }

  /**
   * The delivery's outcome: resolves once its row is committed (and its job enqueued, or left to the
   * sweeper). `abandon` gives up on it while it still waits for its INSERT (see GroupCommit.enter).
   */
  submit(delivery: Delivery): Entry<RecordedDelivery> {
    return this.group.enter(delivery);
  }

  private async record(deliveries: readonly Delivery[]): Promise<Settled<RecordedDelivery>[]> {
    try {
      const rows = await recordDeliveries(this.options.db, deliveries);
      return rows.map((value) => ({ ok: true, value }));
    } catch (err) {
      // Only bad data in one delivery is worth splitting for: an outage, a timeout or a deadlock would
      // hit every single INSERT too, and 200 of them at once would only pile onto the pool.
      if (!isPermanentDatabaseError(err) || deliveries.length === 1) throw err;
      // One bad delivery must not fail its neighbours: write them one by one, a few at a time.
      const outcomes: Settled<RecordedDelivery>[] = new Array(deliveries.length);
      await mapLimit([...deliveries.keys()], SPLIT_PARALLELISM, async (i) => {
        outcomes[i] = await settle(recordDeliveries(this.options.db, [deliveries[i]!]).then(([r]) => r!));
      });
      return outcomes;
    }
  }

  private async enqueue(
    deliveries: readonly Delivery[],
    outcomes: readonly Settled<RecordedDelivery>[],
  ): Promise<void> {
    // One job for the batch's pending rows (see enqueueWebhookBatch). A redelivery of a row still
    // pending adds it again: skipped if the row was applied meanwhile, a repair if an earlier enqueue
    // was lost. Rows already applied need nothing. A longer transcript snapshot put its row back to
    // pending, so it is applied again.
    const jobs = new Map<string, WebhookJobData>();
    outcomes.forEach((o, i) => {
      if (!o.ok || o.value.status !== 'pending') return;
      const d = deliveries[i]!;
      jobs.set(
        o.value.id,
        webhookJobData({
          id: o.value.id,
          event_type: d.eventType,
          call_id: d.callId,
          chat_id: d.chatId,
          snapshot: o.value.snapshotSize,
        }),
      );
    });
    if (jobs.size === 0) return;
    try {
      if (this.options.redis.status !== 'ready') throw new Error(`Redis connection is ${this.options.redis.status}`);
      await withTimeout(enqueueWebhookBatch(this.options.queue, [...jobs.values()]), this.enqueueTimeoutMs, 'enqueue');
    } catch (err) {
      this.options.logger.warn('webhooks stored but not enqueued; the outbox sweeper will pick them up', {
        row_ids: [...jobs.keys()],
        err,
      });
    }
  }
}
