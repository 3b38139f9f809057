import type { Queue } from 'bullmq';

/**
 * Register (or update) a job scheduler that runs `name` every `everyMs`, one run at a time across
 * all processes: global concurrency 1 on the queue makes a slow run delay the next instead of
 * overlapping it. Idempotent, so every worker process calls it at start and after Redis reconnects.
 */
export async function scheduleSingleton<T>(
  queue: Queue<T>,
  schedulerId: string,
  everyMs: number,
  name: string,
  data: NoInfer<T>,
): Promise<void> {
  await queue.setGlobalConcurrency(1);
  // Typed loosely here: the job template's name type depends on T in a way TS cannot follow.
  await (queue as unknown as Queue).upsertJobScheduler(
    schedulerId,
    { every: Math.max(1000, Math.round(everyMs)) },
    // Finished runs are kept (bounded) so their windows and results can be looked at.
    { name, data, opts: { attempts: 1, removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } } },
  );
}
