import { LuaScript, type RedisConnection } from '@callsync/queue';

/*
 * Each destination's limits, checked in Redis before a delivery is claimed in Postgres: at most
 * `perSecond` sends a second (rate) and `maxInFlight` at once (across every worker). A job over
 * either limit is told how long to wait and goes back to BullMQ delayed, without a Postgres round
 * trip; one slow or rate-limited destination then holds at most its own few worker slots, never
 * everyone's.
 *
 * Admission (before the claim) and the slot (around the exchange with the receiver) are two steps:
 * a slot counts a request the receiver is answering, not callsync's claim in Postgres, which takes
 * longer than the exchange itself on a busy machine (a destination limited to 4 would otherwise see
 * one request at a time). A job admitted takes its slot once its delivery is claimed; if others took
 * the last ones meanwhile, it waits for one briefly (TAKE_WAIT_MS), then gives its claim back.
 *
 * Waiting jobs get a reservation, so they do not all come back at once: the rate hands out send
 * times `1/perSecond` apart; a full destination hands out turns at the pace its slots free up, but
 * never further ahead than TURN_HORIZON_MS: a pace measured during a fault (a frozen worker, a
 * receiver that hung) must not park the waiting line for minutes after the destination is quick
 * again. The pace is the slower of two: the receiver's latency / maxInFlight (the HTTP exchange, not
 * the claim in Postgres), and the time between slots given back while the destination was full and
 * jobs waited in its line (`gap`: on a machine short of CPU, sends go slower than the receiver
 * answers, and a line paced by the receiver alone came back faster than slots freed up, every job
 * asking again every 25 ms, which took the CPU the sends needed). A job back for its reservation only
 * waits for a free slot. One sample moves either at most fourfold; `gap` is dropped once a slot is
 * given back with no line (the pace is then the senders', not the destination's), and when two
 * slots came back more than 10 s apart (it starts afresh). Keys (one hash tag with the
 * prefix, so they work on Redis Cluster):
 *   <prefix>:fwd-gate:<id>:inflight  sorted set of job ids in flight, scored by when their hold expires
 *   <prefix>:fwd-gate:<id>           hash: rnext (next rate slot), cnext (next turn), lat (latency, ms),
 *                                    gap (ms between slots given back while full), rel (the last of those)
 *   <prefix>:fwd-gate:<id>:res       hash: job id -> reserved time (ms)
 */

const ADMIT = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local rate = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local jitter = tonumber(ARGV[4])
local horizon = tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], member) then return 0 end
local free = redis.call('ZCARD', KEYS[1]) < limit
local lat = tonumber(redis.call('HGET', KEYS[2], 'lat') or '0')
local gap = tonumber(redis.call('HGET', KEYS[2], 'gap') or '0')
local turn = 100
if lat > 0 or gap > 0 then turn = math.max(1, lat / limit, gap) end
redis.call('PEXPIRE', KEYS[2], 3600000)
redis.call('PEXPIRE', KEYS[3], 3600000)
local res = redis.call('HGET', KEYS[3], member)
if res then
  res = tonumber(res)
  if now + 20 < res then return math.ceil(res - now) end
  if free then
    redis.call('HDEL', KEYS[3], member)
    return 0
  end
  local wait = math.ceil(math.min(math.max(25, turn), horizon) * (0.5 + jitter))
  redis.call('HSET', KEYS[3], member, now + wait)
  return wait
end
local slot = now
if rate > 0 then
  slot = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'rnext') or '0'))
  redis.call('HSET', KEYS[2], 'rnext', slot + 1000 / rate)
end
if free and slot <= now + 20 then return 0 end
if not free then
  local c = math.min(math.max(now, tonumber(redis.call('HGET', KEYS[2], 'cnext') or '0')) + turn, now + horizon)
  redis.call('HSET', KEYS[2], 'cnext', c)
  slot = math.max(slot, c)
end
redis.call('HSET', KEYS[3], member, slot)
return math.ceil(slot - now)
`);

/** A slot for `member` (its own again, if it held one already), if one is free: 1, else 0 (-1: unknown). */
const TAKE = new LuaScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0
`);

const RELEASE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local full = redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4])
local removed = redis.call('ZREM', KEYS[1], ARGV[1], ARGV[3])
local sample = tonumber(ARGV[2])
if sample > 0 then
  local lat = tonumber(redis.call('HGET', KEYS[2], 'lat') or '0')
  if lat == 0 then lat = sample else lat = 0.8 * lat + 0.2 * math.min(sample, 4 * lat) end
  redis.call('HSET', KEYS[2], 'lat', lat)
end
if removed > 0 then
  if full and redis.call('HLEN', KEYS[3]) > 0 then
    local last = tonumber(redis.call('HGET', KEYS[2], 'rel') or '0')
    if last > 0 and now - last < 10000 then
      local gap = now - last
      local g = tonumber(redis.call('HGET', KEYS[2], 'gap') or '0')
      if g == 0 then g = gap else g = 0.8 * g + 0.2 * math.min(gap, 4 * g) end
      redis.call('HSET', KEYS[2], 'gap', g)
    else
      redis.call('HDEL', KEYS[2], 'gap')
    end
    redis.call('HSET', KEYS[2], 'rel', now)
  else
    redis.call('HDEL', KEYS[2], 'rel', 'gap')
  end
end
return 0
`);

/*
 * The gate knows nothing of a destination (Redis restarted without its data, or the destination was
 * idle for an hour): what is in flight is read from Postgres (the deliveries under lease) and each
 * counts until its sender gives it back, or for as long as a send may still take (the attempt's
 * timeout; its lease is short and renewed as it goes, so it says the sender is alive, not when the
 * send ends), so a Redis restart never lets a destination have more than its limit in flight.
 */
const SEED = new LuaScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for i = 1, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 1]), ARGV[i])
end
redis.call('HSET', KEYS[2], 'seeded', 1)
redis.call('PEXPIRE', KEYS[2], 3600000)
return 1
`);

const RENEW = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
`);

/**
 * The furthest ahead a full destination's waiting job is sent: it comes back at the latest then and
 * asks again (a Redis round trip, no Postgres), so a stale latency costs at most this much.
 */
export const TURN_HORIZON_MS = 30_000;

/** How long an admitted job whose delivery is claimed waits for a slot before it gives the claim back. */
export const TAKE_WAIT_MS = 1_000;

/** ADMIT's answer when the destination has no record in Redis. */
const UNKNOWN = -1;

/** The gate's member for a delivery counted from its lease in Postgres (see SEED). */
const leaseMember = (deliveryId: string) => `lease:${deliveryId}`;

/** What Postgres has under lease for a destination: its deliveries in flight. */
export type LeasedReader = () => Promise<readonly { id: string; lease_until: Date }[]>;

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
    /** The longest a send takes (the attempt's timeout): a delivery counted from its lease holds its slot that long. */
    private readonly sendMs: number,
  ) {}

  private keys(destinationId: string): [string, string, string] {
    const base = `${this.prefix}:fwd-gate:${destinationId}`;
    return [`${base}:inflight`, base, `${base}:res`];
  }

  /**
   * 0: `jobId` may claim its delivery now (then take a slot for the send: take()). Else: ms to wait
   * first.
   */
  async admit(destinationId: string, jobId: string, limits: GateLimits, inFlight: LeasedReader): Promise<number> {
    const answer = await this.known(destinationId, inFlight, async () =>
      Number(
        await ADMIT.run(this.connection, this.keys(destinationId), [
          jobId,
          limits.perSecond ?? 0,
          limits.maxInFlight,
          Math.random(),
          TURN_HORIZON_MS,
        ]),
      ),
    );
    // Forgotten again at once (a second restart): try again shortly rather than guess.
    return answer === UNKNOWN ? 100 : answer;
  }

  /** A slot for `jobId`'s send, if one is free now (held `holdMs` unless renewed). */
  async take(destinationId: string, jobId: string, maxInFlight: number, inFlight: LeasedReader): Promise<boolean> {
    const answer = await this.known(destinationId, inFlight, async () =>
      Number(await TAKE.run(this.connection, this.keys(destinationId).slice(0, 2), [jobId, maxInFlight, this.holdMs])),
    );
    return answer === 1;
  }

  /**
   * `ask` the gate; if it has no record of the destination (a Redis restart lost it, or it was idle
   * for an hour), count what Postgres has under lease for it first (`inFlight`), then ask again.
   */
  private async known(destinationId: string, inFlight: LeasedReader, ask: () => Promise<number>): Promise<number> {
    const first = await ask();
    if (first !== UNKNOWN) return first;
    const leased = await inFlight();
    const sendEnds = Date.now() + this.sendMs;
    await SEED.run(
      this.connection,
      this.keys(destinationId).slice(0, 2),
      leased.flatMap((d) => [leaseMember(d.id), Math.max(d.lease_until.getTime(), sendEnds)]),
    );
    return ask();
  }

  /** Keep a slot taken for another `holdMs` (while its holder is alive and busy with it). */
  async renew(destinationId: string, jobId: string): Promise<void> {
    await RENEW.run(this.connection, [this.keys(destinationId)[0]], [jobId, this.holdMs]);
  }

  /**
   * Run `work` with a `take` that waits (at most TAKE_WAIT_MS) for a slot and keeps it renewed (a
   * holder that dies frees it within `holdMs`), and a `done` to call with the receiver's latency once
   * the exchange is over; the slot is given back then, or when `work` settles (the latency paces the
   * waiting line).
   */
  async holding<T>(
    destinationId: string,
    jobId: string,
    deliveryId: string,
    maxInFlight: number,
    inFlight: LeasedReader,
    work: (slot: { take: () => Promise<boolean>; done: (latencyMs: number) => Promise<void> }) => Promise<T>,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let given = false;
    const take = async () => {
      const until = Date.now() + TAKE_WAIT_MS;
      while (!(await this.take(destinationId, jobId, maxInFlight, inFlight))) {
        if (Date.now() >= until) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      timer = setInterval(() => void this.renew(destinationId, jobId).catch(() => undefined), this.holdMs / 3);
      return true;
    };
    const done = async (latencyMs: number) => {
      if (given) return;
      given = true;
      clearInterval(timer);
      // Not given back (Redis away): it frees itself within holdMs; the work's own outcome stands.
      await this.release(destinationId, jobId, deliveryId, latencyMs, maxInFlight).catch(() => undefined);
    };
    try {
      return await work({ take, done });
    } finally {
      await done(0);
    }
  }

  /**
   * Give the slot back (and the delivery's, if it was counted from its lease after a restart);
   * `latencyMs` (0: nothing was sent) and, when the destination was full (`maxInFlight` taken), the
   * time since the last slot given back pace the destination's waiting line.
   */
  async release(
    destinationId: string,
    jobId: string,
    deliveryId: string,
    latencyMs: number,
    maxInFlight: number,
  ): Promise<void> {
    await RELEASE.run(this.connection, this.keys(destinationId), [
      jobId,
      Math.round(latencyMs),
      leaseMember(deliveryId),
      maxInFlight,
    ]);
  }
}
