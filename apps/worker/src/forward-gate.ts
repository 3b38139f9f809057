import type { RedisConnection } from '@callsync/queue';

/*
 * Each destination's limits, checked in Redis before a delivery is claimed in Postgres: at most
 * `perSecond` sends a second (rate) and `maxInFlight` at once (across every worker). A job over
 * either limit is told how long to wait and goes back to BullMQ delayed, without a Postgres round
 * trip; one slow or rate-limited destination then holds at most its own few worker slots, never
 * everyone's.
 *
 * Waiting jobs get a reservation, so they do not all come back at once: the rate hands out send
 * times `1/perSecond` apart; a full destination hands out turns its observed latency / maxInFlight
 * apart (the pace at which slots free up). A job back for its reservation only waits for a free
 * slot. Keys (one hash tag with the prefix, so they work on Redis Cluster):
 *   <prefix>:fwd-gate:<id>:inflight  sorted set of job ids in flight, scored by when their hold expires
 *   <prefix>:fwd-gate:<id>           hash: rnext (next rate slot), cnext (next turn), lat (latency, ms)
 *   <prefix>:fwd-gate:<id>:res       hash: job id -> reserved time (ms)
 */

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local rate = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local hold = tonumber(ARGV[4])
local jitter = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local free = redis.call('ZCARD', KEYS[1]) < limit
local lat = tonumber(redis.call('HGET', KEYS[2], 'lat') or '0')
local turn = 100
if lat > 0 then turn = math.max(1, lat / limit) end
redis.call('PEXPIRE', KEYS[2], 3600000)
redis.call('PEXPIRE', KEYS[3], 3600000)
local res = redis.call('HGET', KEYS[3], member)
if res then
  res = tonumber(res)
  if now + 20 < res then return math.ceil(res - now) end
  if free then
    redis.call('HDEL', KEYS[3], member)
    redis.call('ZADD', KEYS[1], now + hold, member)
    return 0
  end
  local wait = math.ceil(math.max(25, turn) * (0.5 + jitter))
  redis.call('HSET', KEYS[3], member, now + wait)
  return wait
end
local slot = now
if rate > 0 then
  slot = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'rnext') or '0'))
  redis.call('HSET', KEYS[2], 'rnext', slot + 1000 / rate)
end
if free and slot <= now + 20 then
  redis.call('ZADD', KEYS[1], now + hold, member)
  return 0
end
if not free then
  local c = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'cnext') or '0')) + turn
  redis.call('HSET', KEYS[2], 'cnext', c)
  slot = math.max(slot, c)
end
redis.call('HSET', KEYS[3], member, slot)
return math.ceil(slot - now)
`;

const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local sample = tonumber(ARGV[2])
if sample > 0 then
  local lat = tonumber(redis.call('HGET', KEYS[2], 'lat') or '0')
  if lat == 0 then lat = sample else lat = 0.8 * lat + 0.2 * sample end
  redis.call('HSET', KEYS[2], 'lat', lat)
end
return 0
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
`;

export interface GateLimits {
  /** Sends per second at most; null: no rate limit. */
  perSecond: number | null;
  /** Deliveries in flight at once. */
  maxInFlight: number;
}

export class ForwardGate {
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    /** How long a slot stays taken without renewal: a holder that dies frees it this soon. */
    private readonly holdMs: number,
  ) {}

  private keys(destinationId: string): [string, string, string] {
    const base = `${this.prefix}:fwd-gate:${destinationId}`;
    return [`${base}:inflight`, base, `${base}:res`];
  }

  /** 0: `jobId` may claim its delivery now (and holds a slot until release). Else: ms to wait first. */
  async acquire(destinationId: string, jobId: string, limits: GateLimits): Promise<number> {
    const result = await this.connection.eval(
      ACQUIRE,
      3,
      ...this.keys(destinationId),
      jobId,
      limits.perSecond ?? 0,
      limits.maxInFlight,
      this.holdMs,
      Math.random(),
    );
    return Number(result);
  }

  /** Keep a slot taken for another `holdMs` (while its holder is alive and busy with it). */
  async renew(destinationId: string, jobId: string): Promise<void> {
    await this.connection.eval(RENEW, 1, this.keys(destinationId)[0], jobId, this.holdMs);
  }

  /**
   * While `work` runs, keep the slot of `jobId` renewed (a holder that dies frees it within
   * `holdMs`) until `work` calls the `done` it is given (the exchange with the receiver is over) or
   * settles; then give it back, with how long it was held (which paces the waiting line).
   */
  async holding<T>(destinationId: string, jobId: string, work: (done: () => Promise<void>) => Promise<T>): Promise<T> {
    const timer = setInterval(() => void this.renew(destinationId, jobId).catch(() => undefined), this.holdMs / 3);
    const started = performance.now();
    let given = false;
    const done = async (sent: boolean) => {
      if (given) return;
      given = true;
      clearInterval(timer);
      // Not given back (Redis away): it frees itself within holdMs; the work's own outcome stands.
      await this.release(destinationId, jobId, sent ? performance.now() - started : 0).catch(() => undefined);
    };
    try {
      return await work(() => done(true));
    } finally {
      await done(false);
    }
  }

  /** Give the slot back; `latencyMs` (0: nothing was sent) paces the destination's waiting line. */
  async release(destinationId: string, jobId: string, latencyMs: number): Promise<void> {
    await this.connection.eval(RELEASE, 2, ...this.keys(destinationId).slice(0, 2), jobId, Math.round(latencyMs));
  }
}
