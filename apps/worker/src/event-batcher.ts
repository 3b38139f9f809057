import type { Db } from '@callsync/db';
import {
  processWebhookEvent,
  processWebhookEventsBatch,
  type HandlerRegistry,
  type ProcessOutcome,
} from '@callsync/domain';
import { GroupCommit, mapLimit, settle, type Settled } from '@callsync/runtime';

/** Transactions at once when a failed batch is applied row by row. */
const FALLBACK_PARALLELISM = 4;

/**
 * Group commit for the worker (see GroupCommit): the jobs in flight in this process are applied a
 * batch per transaction instead of one each. A lone job goes alone, at once. If anything in a batch
 * fails, its rows are applied one by one, so each job succeeds or fails on its own, as without
 * batching. Each job still finishes only after the transaction holding its row has committed.
 */
export class EventBatcher {
  private readonly group: GroupCommit<string, ProcessOutcome>;

  constructor(
    private readonly db: Db,
    private readonly handlers: HandlerRegistry,
    /** Rows per transaction. Default 64. */
    maxBatch = 64,
    /**
     * Transactions in flight at once. Default 1: with WORKER_CONCURRENCY jobs in flight, more lanes
     * only split them into smaller batches, and Postgres's cost per event grew with the number of
     * transactions (in `make bench`, 1 lane drained about 1.5x as fast as 4). Throughput grows
     * with worker processes instead.
     */
    lanes = 1,
  ) {
    this.group = new GroupCommit({ commit: (rowIds) => this.apply(rowIds), maxBatch, lanes });
  }

  submit(rowId: string): Promise<ProcessOutcome> {
    return this.group.submit(rowId);
  }

  private async apply(rowIds: readonly string[]): Promise<Settled<ProcessOutcome>[]> {
    if (rowIds.length > 1) {
      try {
        const results = await processWebhookEventsBatch(this.db, rowIds, this.handlers);
        return rowIds.map((id) => ({ ok: true, value: results.get(id)! }));
      } catch {
        // Fall through: one by one, so the failing row fails alone and its neighbours commit.
      }
    }
    const outcomes: Settled<ProcessOutcome>[] = new Array(rowIds.length);
    // A few at a time, so the fallback cannot take the whole pool (DATABASE_POOL_SIZE).
    await mapLimit([...rowIds.keys()], FALLBACK_PARALLELISM, async (i) => {
      outcomes[i] = await settle(processWebhookEvent(this.db, rowIds[i]!, this.handlers));
    });
    return outcomes;
  }
}
