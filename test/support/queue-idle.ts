import type { Queue } from 'bullmq';
import { waitUntil } from '@callsync/runtime';

/**
 * Until `queue` has nothing a worker could run now (no job waiting, prioritized or active): every job
 * there was has been handled, or waits delayed. A check that "nothing was sent" made after this is
 * about what the worker decided, not about how long the test waited.
 */
export async function queueIdle(queue: Queue, timeoutMs = 10_000): Promise<void> {
  const idle = await waitUntil(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    },
    { timeoutMs, intervalMs: 25 },
  );
  if (!idle) throw new Error(`queue ${queue.name} still had jobs to run after ${timeoutMs} ms`);
}
