import type { Job } from 'bullmq';
import { webhookBatchJob, type WebhookBatchData } from './jobs';
import type { WebhookQueue } from './webhook-queue';

/*
 * Which batch job holds which webhook_events rows, readable by row-id range, so the outbox sweeper
 * asks only about the rows of the page it is looking at instead of reading every live job in the
 * queue (issue 32: that read grew with the backlog).
 *
 * One sorted-set entry per segment of a batch's row ids, scored by the segment's first id. A
 * segment never spans more than SEGMENT_SPAN ids, so the batches that may hold a row in [from, to]
 * are exactly the entries scored in [from - SEGMENT_SPAN, to]. A batch is almost always one segment
 * (one INSERT's rows are close together); a redelivered old row in it makes a segment of its own.
 * The entry names the job; the job's own data still says which rows it holds and whether it lives.
 */

/** Row ids in one segment are at most this far apart. */
export const SEGMENT_SPAN = 10_000;

const membershipKey = (queue: WebhookQueue) => queue.toKey('batch-rows');

/** The queue's own Redis client (BullMQ's adapter: commands it does not wrap go through runCommand). */
export const queueRedis = (queue: WebhookQueue) => queue.getBackend().client;

/** Split ids into segments of at most SEGMENT_SPAN ids: [first, last] of each, ascending. */
export function segments(rowIds: readonly string[]): [number, number][] {
  const ids = rowIds.map(Number).sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const id of ids) {
    const last = out[out.length - 1];
    if (last && id - last[0] <= SEGMENT_SPAN) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** An entry: `<job id>|<first>|<last>`, scored by its first row id. */
const entry = (jobId: string, [first, last]: [number, number]) => `${jobId}|${first}|${last}`;
function parseEntry(e: string): { jobId: string; last: number } {
  const parts = e.split('|');
  return { jobId: parts.slice(0, -2).join('|'), last: Number(parts[parts.length - 1]) };
}

/** Record that batch job `jobId` holds `rowIds` (called right after the job is added). */
export async function recordBatchMembership(
  queue: WebhookQueue,
  jobId: string,
  rowIds: readonly string[],
): Promise<void> {
  const args = segments(rowIds).flatMap((seg) => [seg[0], entry(jobId, seg)]);
  if (args.length) await (await queueRedis(queue)).runCommand('zadd', [membershipKey(queue), ...args]);
}

/**
 * The rows in [fromId, toId] (inclusive) that a batch job which may still run (waiting, delayed,
 * running, or stalled and put back) holds. Entries of batches that finished or are gone are
 * dropped on the way: a completed or failed batch covers nothing.
 */
export async function liveBatchRowsBetween(queue: WebhookQueue, fromId: string, toId: string): Promise<Set<string>> {
  const client = await queueRedis(queue);
  const key = membershipKey(queue);
  const from = Number(fromId);
  const to = Number(toId);
  // Segments that start up to SEGMENT_SPAN before the range may reach into it; only those that do are read.
  const entries = ((await client.runCommand('zrangebyscore', [key, from - SEGMENT_SPAN, to])) as string[]).filter(
    (e) => parseEntry(e).last >= from,
  );
  const jobIds = [...new Set(entries.map((e) => parseEntry(e).jobId))];
  const jobs = (await Promise.all(jobIds.map((id) => queue.getJob(id)))) as (Job<WebhookBatchData> | undefined)[];
  const rows = new Set<string>();
  const dead = new Set<string>();
  jobs.forEach((job, i) => {
    // BullMQ stamps finishedOn when a job completes or fails for good, and clears it when one is
    // retried; reading it instead of getState() spares a scan of the waiting list per job (getState
    // looks for the id in it, so its cost grows with the backlog).
    if (!job || job.name !== webhookBatchJob.name || job.finishedOn !== undefined) {
      dead.add(jobIds[i]!);
      return;
    }
    for (const id of job.data.rowIds ?? []) {
      const n = Number(id);
      if (n >= from && n <= to) rows.add(id);
    }
  });
  const stale = entries.filter((e) => dead.has(parseEntry(e).jobId));
  if (stale.length) await client.runCommand('zrem', [key, ...stale]);
  return rows;
}

/**
 * Forget every batch whose rows are all below `belowId` (the oldest pending row): they hold nothing
 * to sweep any more. Keeps the set as small as the backlog.
 */
export async function trimBatchMembership(queue: WebhookQueue, belowId: string): Promise<number> {
  const client = await queueRedis(queue);
  return Number(
    await client.runCommand('zremrangebyscore', [membershipKey(queue), '-inf', `(${Number(belowId) - SEGMENT_SPAN}`]),
  );
}
