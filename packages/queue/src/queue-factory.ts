import { Queue, type QueueOptions } from 'bullmq';
import type { RedisConnection } from './connection';

/**
 * The `create…Queue(connection, prefix, name?)` of one queue: jobs of type `T` on callsync's Redis,
 * under its key prefix, named `defaultName` unless a test passes a name of its own.
 */
export const queueFactory =
  <T>(defaultName: string, options: Omit<QueueOptions, 'connection' | 'prefix'> = {}) =>
  (connection: RedisConnection, prefix: string, name = defaultName): Queue<T> =>
    new Queue<T>(name, { ...options, connection, prefix });
