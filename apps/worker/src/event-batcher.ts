import type { Db } from '@callsync/db';
import { mapLimit } from '@callsync/runtime';
import {
  processWebhookEvent,
  processWebhookEventsBatch,
  type HandlerRegistry,
  type ProcessOutcome,
} from '@callsync/domain';

/** Transactions at once when a failed batch is applied row by row. */
const FALLBACK_PARALLELISM = 4;

interface Waiting {
  rowId: string;
  resolve: (r: ProcessOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the worker: the jobs in flight in this process are applied a batch per
 * transaction instead of one each. A lone job goes alone, at once. If anything in a batch fails,
 * its rows are applied one by one, so each job succeeds or fails on its own, as without batching.
 * Each job still finishes only after the transaction holding its row has committed.
 */
export class EventBatcher {
  private waiting: Waiting[] = [];
  private lanes = 0;

  constructor(
    private readonly db: Db,
    private readonly handlers: HandlerRegistry,
    /** Rows per transaction. Default 64. */
    private readonly maxBatch = 64,
    /**
     * Transactions in flight at once. Default 1: with WORKER_CONCURRENCY jobs in flight, more lanes
     * only split them into smaller batches, and Postgres's cost per event grew with the number of
     * transactions (in `make bench`, 1 lane drained about 1.5x as fast as 4). Throughput grows
     * with worker processes instead.
     */
    private readonly maxLanes = 1,
  ) {}

  submit(rowId: string): Promise<ProcessOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ rowId, resolve, reject });
      if (this.lanes < this.maxLanes) void this.lane();
    });
  }

  private async lane(): Promise<void> {
    this.lanes += 1;
    try {
      while (this.waiting.length > 0) await this.run(this.waiting.splice(0, this.maxBatch));
    } finally {
      this.lanes -= 1;
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const results = await processWebhookEventsBatch(
          this.db,
          batch.map((w) => w.rowId),
          this.handlers,
        );
        for (const w of batch) w.resolve(results.get(w.rowId)!);
        return;
      } catch {
        // Fall through: one by one, so the failing row fails alone and its neighbours commit.
      }
    }
    // A few at a time, so the fallback cannot take the whole pool (DATABASE_POOL_SIZE).
    await mapLimit(batch, FALLBACK_PARALLELISM, (w) =>
      processWebhookEvent(this.db, w.rowId, this.handlers).then(w.resolve, w.reject),
    );
  }
}
