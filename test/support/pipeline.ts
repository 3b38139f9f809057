import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import request from 'supertest';
import { sign } from 'retell-sdk';
import type { Db } from '@callsync/db';
import type { WebhookEvent } from '@callsync/db/events';
import type { HandlerRegistry, SecretKeyring } from '@callsync/domain';
import { createIngressApp, type IngressDeps } from '@callsync/ingress';
import { createLogger, type Logger } from '@callsync/logger';
import { Metrics } from '@callsync/metrics';
import {
  createForwardQueue,
  createRedisConnection,
  createWebhookQueue,
  type ForwardQueue,
  type RedisConnection,
  type WebhookQueue,
} from '@callsync/queue';
import { waitUntil } from '@callsync/runtime';
import { createForwardWorker, createWebhookWorker } from '@callsync/worker';
import { serviceUrls, TEST_API_KEY } from './env';
import { TEST_KEYS } from './keys';

export const TEST_PREFIX = '{callsync-test}';
export const WEBHOOK_PATH = '/api/webhooks/retell';

export interface PipelineOptions {
  handlers?: HandlerRegistry;
  /** CALLSYNC_SECRET_KEY of the ingress and the forward worker. Default TEST_KEYS. */
  keys?: SecretKeyring;
  attempts?: number;
  backoffMs?: number;
  maxBodyBytes?: number;
  /** Backlog bounds and deadline of the ingress (see IngressDeps). */
  ingress?: Partial<
    Pick<
      IngressDeps,
      | 'maxWaiting'
      | 'maxWaitingBytes'
      | 'requestDeadlineMs'
      | 'functions'
      | 'liveDb'
      | 'apiTokens'
      | 'inboundBudgetMs'
      | 'maxUnverifiedBytes'
      | 'bodyTimeoutMs'
      | 'badSignatureThrottle'
    >
  >;
  /** The ingress's and workers' logger. Default a silent one. */
  logger?: Logger;
  /** Keys the ingress verifies signatures with. Default [TEST_API_KEY]. */
  webhookKeys?: string[];
  /** Start the worker. Default true. */
  worker?: boolean;
  /**
   * Forward applied events to destinations: a forward queue and worker of their own. Default off
   * (no outbox jobs; the deliveries are still written).
   */
  forwarding?: { timeoutMs?: number; retrySchedule?: number[]; concurrency?: number };
}

/**
 * The real ingress app and a real BullMQ worker on a queue of their own (unique per test), against
 * the file's database. Nothing is mocked; only Retell is played by the test, with retell-sdk signatures.
 */
export interface Pipeline {
  app: ReturnType<typeof createIngressApp>;
  metrics: Metrics;
  queue: WebhookQueue;
  queueName: string;
  worker?: Worker;
  forwardQueue?: ForwardQueue;
  forwardWorker?: Worker;
  db: Db;
  /** POST a body signed with retell-sdk (or with the given header; null sends none). */
  deliver(body: string, signature?: string | null): Promise<request.Response>;
  /** Wait until every given row has left `pending`, then return the rows. */
  settled(ids: string[], timeoutMs?: number): Promise<WebhookEvent[]>;
  close(): Promise<void>;
}

export async function startPipeline(db: Db, o: PipelineOptions = {}): Promise<Pipeline> {
  const logger = o.logger ?? createLogger({ silent: true });
  const queueName = `test-${randomUUID()}`;
  const { redisUrl } = serviceUrls();
  const producer: RedisConnection = createRedisConnection({ url: redisUrl }, { enableOfflineQueue: false });
  const consumer: RedisConnection = createRedisConnection({ url: redisUrl });
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve());
    producer.once('error', reject);
  });
  const queue = createWebhookQueue({
    connection: producer,
    prefix: TEST_PREFIX,
    name: queueName,
    attempts: o.attempts ?? 3,
    backoffMs: o.backoffMs ?? 10,
  });
  const metrics = new Metrics('test', { processMetrics: false });
  const app = createIngressApp({
    db,
    keys: o.keys ?? TEST_KEYS,
    queue,
    redis: producer,
    logger,
    metrics,
    webhookKeys: o.webhookKeys ?? [TEST_API_KEY],
    maxBodyBytes: o.maxBodyBytes ?? 5 * 1024 * 1024,
    signatureToleranceMs: 5 * 60 * 1000,
    ...o.ingress,
  });
  const forwardQueue = o.forwarding ? createForwardQueue(producer, TEST_PREFIX, `fwd-${queueName}`) : undefined;
  const forwardWorker =
    o.forwarding && o.worker !== false
      ? createForwardWorker({
          db,
          keys: o.keys ?? TEST_KEYS,
          connection: consumer,
          logger,
          metrics,
          prefix: TEST_PREFIX,
          forwardQueue: forwardQueue!,
          queueName: forwardQueue!.name,
          concurrency: o.forwarding.concurrency ?? 8,
          timeoutMs: o.forwarding.timeoutMs ?? 15_000,
          retrySchedule: o.forwarding.retrySchedule ?? [100, 200, 400],
        })
      : undefined;
  const worker =
    o.worker === false
      ? undefined
      : createWebhookWorker({
          db,
          connection: consumer,
          logger,
          metrics,
          prefix: TEST_PREFIX,
          queueName,
          concurrency: 8,
          handlers: o.handlers,
          forwardQueue,
          webhookQueue: queue,
        });

  return {
    app,
    metrics,
    queue,
    queueName,
    worker,
    forwardQueue,
    forwardWorker,
    db,
    async deliver(body, signature) {
      const sig = signature === undefined ? await sign(body, TEST_API_KEY) : signature;
      const req = request(app).post(WEBHOOK_PATH).set('content-type', 'application/json');
      if (sig !== null) req.set('x-retell-signature', sig);
      return req.send(body);
    },
    async settled(ids, timeoutMs = 20_000) {
      const read = () => db.selectFrom('webhook_events').selectAll().where('id', 'in', ids).orderBy('id').execute();
      const done = await waitUntil(
        async () => {
          const rows = await read();
          return rows.length === ids.length && rows.every((r) => r.status !== 'pending') ? rows : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      );
      if (done) return done;
      const rows = await read();
      throw new Error(
        `rows still pending after ${timeoutMs} ms: ${JSON.stringify(rows.map((r) => [r.id, r.status, r.error]))}`,
      );
    },
    async close() {
      await worker?.close();
      await forwardWorker?.close();
      await forwardQueue?.obliterate({ force: true });
      await forwardQueue?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      producer.disconnect();
      consumer.disconnect();
    },
  };
}
