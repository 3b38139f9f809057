import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection';

/** Where a script runs: an ioredis connection, or the client a BullMQ queue holds. */
export type ScriptClient = RedisConnection | { runCommand(name: string, args: unknown[]): Promise<unknown> };

const command = (client: ScriptClient, name: string, args: unknown[]): Promise<unknown> =>
  'runCommand' in client ? client.runCommand(name, args) : client.call(name, ...(args as (string | number)[]));

/**
 * A Lua script Redis runs by its SHA1 (EVALSHA): the script's text goes over the wire and through
 * Redis's hash only the first time, and again after Redis lost its script cache (a restart), when
 * EVALSHA answers NOSCRIPT. The forward gate runs three or four scripts per delivery; sent whole
 * with EVAL, they were most of the bytes a forward wrote to Redis.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: ScriptClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await command(client, 'evalsha', [this.sha, keys.length, ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      // EVAL also loads it into the cache, so the next run is by SHA again.
      return command(client, 'eval', [this.source, keys.length, ...keys, ...args]);
    }
  }
}
