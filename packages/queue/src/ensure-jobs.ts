import type { Queue } from 'bullmq';

export interface EnsureJobsResult {
  /** Rows that had no job: added. */
  enqueued: number;
  /** Rows whose job had finished (failed or completed): retried with fresh attempts. */
  retried: number;
  /** Rows whose job is waiting, delayed or running: left alone. */
  inFlight: number;
}

/**
 * Make sure each item has a live job under its id: add the missing ones, retry finished ones (a kept
 * failed or completed job blocks adding its id again), leave waiting, delayed and running ones alone.
 * Safe to run from many processes at once, since the ids derive from the rows the jobs are for.
 */
export async function ensureJobs<D>(
  queue: Queue<D>,
  items: readonly { name: string; data: D; jobId: string }[],
  /** The priorities of the jobs about to be added (default: none). */
  prioritize?: (missing: readonly { name: string; data: D; jobId: string }[]) => Promise<number[]>,
): Promise<EnsureJobsResult> {
  const result: EnsureJobsResult = { enqueued: 0, retried: 0, inFlight: 0 };
  const jobs = await Promise.all(items.map((r) => queue.getJob(r.jobId)));
  const missing = items.filter((_, i) => !jobs[i]);
  if (missing.length) {
    const priorities = await prioritize?.(missing);
    await (queue as Queue).addBulk(
      missing.map((m, i) => ({ name: m.name, data: m.data, opts: { jobId: m.jobId, priority: priorities?.[i] } })),
    );
  }
  result.enqueued = missing.length;
  // All states at once: the commands share the connection's round trips instead of one each.
  const existing = jobs.filter((j): j is NonNullable<typeof j> => j !== undefined);
  const states = await Promise.all(existing.map((job) => job.getState()));
  await Promise.all(
    existing.map(async (job, i) => {
      const state = states[i];
      if (state !== 'failed' && state !== 'completed') {
        result.inFlight += 1;
        return;
      }
      try {
        await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
        result.retried += 1;
      } catch {
        // Moved meanwhile by another sweeper, a replay or the dashboard: it is live either way.
        result.inFlight += 1;
      }
    }),
  );
  return result;
}
