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
 * It is a pacing hint, not a ledger: a job removed by hand is never lowered, a job retried after it
 * failed for good is lowered twice (the count never goes below 0), and a Redis restart loses the
 * counts with the jobs. A count left too high only gives its destination later turns; it expires
 * once the destination had nothing added for COUNT_TTL_MS.
 */

/** BullMQ's largest priority (2^21). */
export const MAX_PRIORITY = 2_097_152;

/** A destination's count is dropped after this long with nothing added (a drifted count heals). */
export const COUNT_TTL_MS = 3_600_000;

/** KEYS: one count per destination; ARGV: how many jobs each gets, then the TTL. Returns the new counts. */
const ADD = new LuaScript(`
local ttl = ARGV[#ARGV]
local counts = {}
for i = 1, #KEYS do
  counts[i] = redis.call('INCRBY', KEYS[i], ARGV[i])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return counts
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
 * The priorities of jobs about to be added for these destinations (one per entry, in order; entries
 * of one destination get consecutive places in its line), counting them in (one round trip).
 */
export async function takeTurns(queue: Queue, destinationIds: readonly string[]): Promise<number[]> {
  if (destinationIds.length === 0) return [];
  const added = new Map<string, number>();
  for (const id of destinationIds) added.set(id, (added.get(id) ?? 0) + 1);
  const ids = [...added.keys()];
  const counts = (await ADD.run(
    await queue.getBackend().client,
    ids.map((id) => countKey(queue, id)),
    [...ids.map((id) => added.get(id)!), COUNT_TTL_MS],
  )) as number[];
  // Each destination's entries take the places after what it already had.
  const next = new Map(ids.map((id, i) => [id, counts[i]! - added.get(id)! + 1]));
  return destinationIds.map((id) => {
    const place = next.get(id)!;
    next.set(id, place + 1);
    return Math.min(MAX_PRIORITY, Math.max(1, place));
  });
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
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.flushMs);
  }

  /** Send what was gathered (Redis away: the counts stay high, and expire). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.left.size === 0) return;
    const entries = [...this.left];
    this.left.clear();
    await LEAVE.run(
      await this.queue.getBackend().client,
      entries.map(([id]) => countKey(this.queue, id)),
      entries.map(([, n]) => n),
    );
  }
}
