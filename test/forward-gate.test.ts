import { randomUUID } from 'node:crypto';
import { createRedisConnection, type RedisConnection } from '@callsync/queue';
import { ForwardGate, TURN_HORIZON_MS } from '@callsync/worker';
import { serviceUrls } from './support/env';
import { deleteQueueKeys } from './support/processes';

/*
 * The forward gate's waiting line (issue 28), on a real Redis: what a full destination tells its
 * waiting jobs. The waits are the gate's answers, computed from Redis's clock, not measured times.
 */
const prefix = `{callsync-gate-${randomUUID().slice(0, 8)}}`;
let connection: RedisConnection;
let gate: ForwardGate;
const nothingLeased = async () => [];
const one = { perSecond: null, maxInFlight: 1 };

beforeAll(() => {
  connection = createRedisConnection({ url: serviceUrls().redisUrl });
  gate = new ForwardGate(connection, prefix, 10_000, 10_000);
});
afterAll(async () => {
  connection.disconnect();
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
});

/** One exchange with the receiver that took `latencyMs`, through the gate. */
async function exchange(destination: string, latencyMs: number): Promise<void> {
  const job = `job-${randomUUID()}`;
  expect(await gate.admit(destination, job, one, nothingLeased)).toBe(0);
  expect(await gate.take(destination, job, 1, nothingLeased)).toBe(true);
  await gate.release(destination, job, '1', latencyMs, 1);
}

/** Take the one slot, then ask for it `n` times more: the waits the line is given. */
async function waitsBehindOne(destination: string, n: number): Promise<number[]> {
  const holder = `holder-${randomUUID()}`;
  expect(await gate.admit(destination, holder, one, nothingLeased)).toBe(0);
  expect(await gate.take(destination, holder, 1, nothingLeased)).toBe(true);
  const waits: number[] = [];
  for (let i = 0; i < n; i++) waits.push(await gate.admit(destination, `waiter-${i}`, one, nothingLeased));
  return waits;
}

it('one exchange measured during a fault (a frozen sender) does not park the waiting line', async () => {
  const destination = randomUUID();
  for (let i = 0; i < 5; i++) await exchange(destination, 20);
  // A sender frozen for 100 s mid-exchange reports it when it thaws.
  await exchange(destination, 100_000);
  const waits = await waitsBehindOne(destination, 10);
  expect(waits.every((w) => w > 0)).toBe(true);
  // Before the fix the latency became ~20 s: the tenth waiter was sent ~200 s away, long after the
  // receiver (20 ms an exchange) could have taken it.
  expect(Math.max(...waits)).toBeLessThan(1_000);
});

it('a full destination’s line is paced by how fast its slots come back, not only by how fast its receiver answers', async () => {
  const destination = randomUUID();
  // A line: the one slot taken, a job waiting with a reservation.
  expect(await gate.admit(destination, 'first', one, nothingLeased)).toBe(0);
  expect(await gate.take(destination, 'first', 1, nothingLeased)).toBe(true);
  expect(await gate.admit(destination, 'waiting', one, nothingLeased)).toBeGreaterThan(0);
  // The receiver answers in 5 ms, but on a machine short of CPU the sends around it take 200 ms and
  // more: the slot comes back that far apart.
  await gate.release(destination, 'first', '1', 5, 1);
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 200));
    await exchange(destination, 5);
  }
  const waits = await waitsBehindOne(destination, 10);
  // Before: turns 5 ms apart (the receiver's answer), so the line came back within ~50 ms and asked
  // again every 25 ms. Now the tenth waiter's turn is about ten slots (~2 s) away.
  expect(Math.max(...waits)).toBeGreaterThan(1_000);
  expect(Math.max(...waits)).toBeLessThanOrEqual(TURN_HORIZON_MS + 20);
});

it('with nobody waiting, slots given back far apart do not slow the next burst', async () => {
  const destination = randomUUID();
  // One send every 200 ms, never a line: the pace is the senders', not the destination's.
  for (let i = 0; i < 5; i++) {
    await exchange(destination, 5);
    await new Promise((r) => setTimeout(r, 200));
  }
  const waits = await waitsBehindOne(destination, 10);
  // Paced by the receiver's 5 ms answers: the tenth waiter within a few hundred ms.
  expect(Math.max(...waits)).toBeLessThan(1_000);
});

it('a slow receiver’s waiting line is sent no further ahead than the horizon, then asks again', async () => {
  const destination = randomUUID();
  for (let i = 0; i < 30; i++) await exchange(destination, 9_000);
  const waits = await waitsBehindOne(destination, 20);
  // 20 waiters at 9 s an exchange would be 180 s away; each comes back within the horizon instead.
  expect(Math.max(...waits)).toBeLessThanOrEqual(TURN_HORIZON_MS + 20);
  expect(Math.min(...waits)).toBeGreaterThan(0);
});

it('admission does not take the slot: the slot is taken for the send, and then only one at a time', async () => {
  const destination = randomUUID();
  // Two jobs admitted while nothing is in flight (both claim their deliveries) ...
  expect(await gate.admit(destination, 'a', one, nothingLeased)).toBe(0);
  expect(await gate.admit(destination, 'b', one, nothingLeased)).toBe(0);
  // ... but only one sends at a time: the other waits for the slot, and gets it once it is given back.
  expect(await gate.take(destination, 'a', 1, nothingLeased)).toBe(true);
  expect(await gate.take(destination, 'b', 1, nothingLeased)).toBe(false);
  await gate.release(destination, 'a', '1', 5, 1);
  expect(await gate.take(destination, 'b', 1, nothingLeased)).toBe(true);
});
