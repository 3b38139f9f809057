import { randomUUID } from 'node:crypto';
import { createRedisConnection, LuaScript, type RedisConnection } from '@callsync/queue';
import { serviceUrls } from './support/env';

/**
 * The forward gate's scripts run by SHA (EVALSHA): their text is sent once, not with every delivery,
 * and a Redis that lost its script cache (a restart without persistence) gets it again.
 */
let redis: RedisConnection;
beforeAll(() => {
  redis = createRedisConnection({ url: serviceUrls().redisUrl });
});
afterAll(() => redis.disconnect());

const cached = async (script: LuaScript) => ((await redis.call('SCRIPT', 'EXISTS', script.sha)) as number[])[0] === 1;

it('a script Redis has never seen runs, and is cached by its SHA from then on', async () => {
  // A script of its own (a unique comment): no other test's run has loaded it.
  const script = new LuaScript(`-- ${randomUUID()}\nreturn tonumber(ARGV[1]) + #KEYS`);
  expect(await cached(script)).toBe(false);

  expect(await script.run(redis, ['a', 'b'], [40])).toBe(42);
  expect(await cached(script)).toBe(true);
  expect(await script.run(redis, ['a'], [1])).toBe(2);
});

it('a script error is thrown, not taken for a missing script', async () => {
  const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.error_reply('BROKEN on purpose')`);
  await expect(script.run(redis, [], [])).rejects.toThrow(/BROKEN on purpose/);
  await expect(script.run(redis, [], [])).rejects.toThrow(/BROKEN on purpose/);
});
