import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisTarget {
  url?: string;
  clusterNodes?: readonly { host: string; port: number }[];
}

export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  /**
   * Producers (the ingress) pass false: while Redis is down a command fails at once instead of
   * queueing in memory, so a request never waits on Redis. Workers keep the default (true).
   */
  enableOfflineQueue?: boolean;
  /** Connection name shown in CLIENT LIST. */
  name?: string;
}

/** A connection for BullMQ: a single node from REDIS_URL, or a cluster from REDIS_CLUSTER_NODES. */
export function createRedisConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  const common: RedisOptions = {
    // BullMQ's blocking commands need this; producers fail fast through enableOfflineQueue instead.
    maxRetriesPerRequest: null,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    connectionName: options.name,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  if (target.clusterNodes?.length) {
    return new Cluster([...target.clusterNodes], {
      redisOptions: common,
      enableOfflineQueue: common.enableOfflineQueue,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
    });
  }
  if (!target.url) throw new Error('no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES');
  return new Redis(target.url, common);
}
