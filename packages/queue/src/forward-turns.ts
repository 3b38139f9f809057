import type { Queue } from 'bullmq';
import { LuaScript } from './lua-script';

/*
 * Fair turns across destinations. Every forward job shares one queue, and a plain queue serves it in
 * arrival order: a destination with a large backlog (a flaky receiver's retries, a breaker's released
 * backlog, a burst after an outage) would put every other destination's new deliveries behind all
 * of it. So each job gets a BullMQ priority that is its place in its own destination's line: the
 * destination's jobs the queue holds, counting this one. The first job of every destination goes
 * before the second of any, and so on (BullMQ keeps arrival order within one priority): a
 * destination that has little to send gets its turn at once, however much another has waiting;
 * one with a backlog gets the capacity the others leave.
 *
 * The count per destination lives in Redis beside the jobs (one key each, in the queue's hash slot):
 * raised when jobs are added, lowered when a job leaves the queue (completed, or failed for good).
 * It is a pacing hint, not a ledger: a job added under an id that exists is not counted (the add does
 * nothing), but a job removed by hand is never lowered, the last 200 ms of a killed worker's
 * completions are lost, a job retried after it failed for good is lowered twice (the count never
 * goes below 0), and a Redis restart loses the counts with the jobs. A count left too high only gives
 * its destination later turns, and every count starts afresh COUNT_TTL_MS after it was started.
 */

/** The first place in a line: a job given it goes as early as any turn (an open breaker's probe). */
export const FRONT_OF_LINE = 1;

/** BullMQ's largest priority (2^21 - 1): an addBulk with a larger one throws for every job in it. */
export const MAX_PRIORITY = 2 ** 21 - 1;

/**
 * A destination's count lives at most this long from when it was started, then starts again from
 * nothing: however it drifted (see above), a busy destination's count heals within the hour.
 */
export const COUNT_TTL_MS = 3_600_000;

/**
 * KEYS: per job about to be added, its destination's count, then its job's key; ARGV: the TTL.
 * Returns each job's place (0: the job exists already, so adding it does nothing and it is not
 * counted again).
 */
const ADD = new LuaScript(`
local ttl = ARGV[1]
local places = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    places[#places + 1] = 0
  else
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('PEXPIRE', KEYS[i], ttl) end
    places[#places + 1] = n
  end
end
return places
`);

/** KEYS: one count per destination; ARGV: how many of its jobs left the queue. */
const LEAVE = new LuaScript(`
for i = 1, #KEYS do
  if redis.call('DECRBY', KEYS[i], ARGV[i]) <= 0 then redis.call('DEL', KEYS[i]) end
end
return 0
`);

const countKey = (queue: Queue, destinationId: string) => queue.toKey(`turns:${destinationId}`);

/**
 * The priorities of jobs about to be added (one per entry, in order; entries of one destination get
 * consecutive places in its line), counting them in (one round trip). A job that exists already is
 * not counted (its add will do nothing).
 */
export async function takeTurns(
  queue: Queue,
  jobs: readonly { destinationId: string; jobId: string }[],
): Promise<number[]> {
  if (jobs.length === 0) return [];
  const places = (await ADD.run(
    await queue.getBackend().client,
    jobs.flatMap((j) => [countKey(queue, j.destinationId), queue.toKey(j.jobId)]),
    [COUNT_TTL_MS],
  )) as number[];
  return places.map((place) => Math.min(MAX_PRIORITY, Math.max(FRONT_OF_LINE, place)));
}

/**
 * Lowers the counts as jobs leave the queue, gathered for `flushMs` so a busy worker sends one
 * command per flush rather than one per job.
 */
export class TurnCounter {
  private readonly left = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly queue: Queue,
    private readonly flushMs = 200,
  ) {}

  /** One of `destinationId`'s jobs left the queue. */
  leave(destinationId: string): void {
    this.left.set(destinationId, (this.left.get(destinationId) ?? 0) + 1);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.flushMs);
      this.timer.unref();
    }
  }

  /** Send what was gathered (Redis away: kept for the next flush). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.left.size === 0) return;
    const entries = [...this.left];
    this.left.clear();
    try {
      await LEAVE.run(
        await this.queue.getBackend().client,
        entries.map(([id]) => countKey(this.queue, id)),
        entries.map(([, n]) => n),
      );
    } catch (err) {
      for (const [id, n] of entries) this.left.set(id, (this.left.get(id) ?? 0) + n);
      throw err;
    }
  }
}
