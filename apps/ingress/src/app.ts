import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { pingDatabase, type Db } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import { eventLabel, outcomeForStatus, probeDependencies, type Metrics } from '@callsync/metrics';
import type { RedisConnection, WebhookQueue } from '@callsync/queue';
import { DeliveryBatcher } from './delivery-batcher';
import { HttpError } from './http-error';
import { liveRoutes, type LiveDeps } from './live.routes';
import { signedBody, refuseAndClose } from './signed-body';
import { baseApp, edgeOf, serveHealth, type EdgeSettings } from './app-base';
import { retellWebhookRoute, WEBHOOK_SIGNATURE_MESSAGES } from './webhook.route';
import {
  BUILTIN_FUNCTIONS,
  functionRegistry,
  type ContextCache,
  type FunctionRegistry,
  type SecretKeyring,
  type TenantDirectory,
} from '@callsync/domain';
import { CallAnnouncer } from './live-announce';

export interface IngressDeps extends EdgeSettings {
  db: Db;
  /** CALLSYNC_SECRET_KEY: inbound answers, functions and the context API hash the caller with it. */
  keys: SecretKeyring;
  queue: WebhookQueue;
  /** The connection the queue uses; /readyz pings it. */
  redis: RedisConnection;
  logger: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  enqueueTimeoutMs?: number;
  /** See DeliveryBatcher: requests and body bytes that may wait for the database. */
  maxWaiting?: number;
  maxWaitingBytes?: number;
  /** See the webhook route. Default 4000 ms. */
  requestDeadlineMs?: number;
  /**
   * True once the process is shutting down: /readyz answers 503 so the load balancer stops sending,
   * while requests that still arrive are served (with `Connection: close`). Default never.
   */
  draining?: () => boolean;
  /** Custom functions served at /api/retell/functions/:name. Default: the built-in ones. */
  functions?: FunctionRegistry;
  /** The pool inbound answers, functions and the context API read through. Default `db`. */
  liveDb?: Db;
  /** CALLSYNC_API_TOKENS: operator tokens (company tokens live in api_tokens). Default none. */
  apiTokens?: readonly string[];
  /** How long an inbound answer waits for Postgres before answering the defaults. Default 1000 ms. */
  inboundBudgetMs?: number;
  /** Routing held in memory for the live routes (see LiveDeps). Default none: read from Postgres. */
  directory?: TenantDirectory;
  /** Callers prefetched for the live routes' functions (see LiveDeps). Default none. */
  prefetch?: ContextCache;
  /** What the live routes write after their answers, to wait for at shutdown (see LiveDeps). */
  afterAnswers?: LiveDeps['afterAnswers'];
  /**
   * NOTIFY callsync_calls for every call_started acknowledged, so the live routes (here or in the live
   * process) prefetch the caller's context before the call's first function. Default true.
   */
  announceCallStarted?: boolean;
}

export const WEBHOOK_PATH = '/api/webhooks/retell';

/** 415 unless the body is declared JSON. */
function notJson(req: Request): HttpError | undefined {
  if (req.is(['application/json', 'application/*+json'])) return undefined;
  return new HttpError(415, `Content-Type must be application/json (got ${req.get('content-type') ?? 'none'})`);
}

export function createIngressApp(deps: IngressDeps): express.Express {
  const draining = deps.draining ?? (() => false);
  const app = baseApp(draining);

  const batcher = new DeliveryBatcher({ ...deps });
  deps.metrics.watchBacklog(() => batcher.backlog());

  // Outcome and ack latency of every delivery, whatever answers it (route or error handler).
  const observe = (res: Response) => {
    const end = deps.metrics.ackLatency.startTimer();
    res.once('finish', () => {
      const outcome = (res.locals.outcome as string | undefined) ?? outcomeForStatus(res.statusCode);
      end({ outcome });
      deps.metrics.deliveries.inc({ event: eventLabel(res.locals.event as string | undefined), outcome });
    });
  };

  // Every public route reads its body through this: signature header, size and the process-wide
  // bound of unverified bytes are checked before a byte of it is read (signed-body.ts).
  const edge = edgeOf(deps);

  // First: the router tries routes in order, and this one serves nearly every request. Its steps
  // (observe, content type, body, route) run as one handler: passing each through the router cost
  // more than some of the steps.
  // The signature covers the exact bytes, so they stay raw.
  const readBody = signedBody(edge, {
    maxBytes: deps.maxBodyBytes,
    limitName: 'MAX_BODY_BYTES',
    messages: WEBHOOK_SIGNATURE_MESSAGES,
    what: 'webhook refused',
  });
  const route = retellWebhookRoute({ ...deps, batcher });
  const announcer = deps.announceCallStarted === false ? undefined : new CallAnnouncer(deps.db, deps.logger);
  app.post(WEBHOOK_PATH, (req, res, next) => {
    observe(res);
    const refused = notJson(req);
    if (refused) return refuseAndClose(res, refused.status, refused.message);
    readBody(req, res, (err?: unknown) =>
      err
        ? next(err)
        : void route(req, res)
            .then(() => {
              if (res.locals.event === 'call_started' && res.statusCode < 300 && announcer)
                announcer.announce(res.locals.body);
            })
            .catch(next),
    );
  });

  // During the call: inbound routing, custom functions, the context API.
  app.use(
    liveRoutes({
      db: deps.liveDb ?? deps.db,
      keys: deps.keys,
      logger: deps.logger,
      metrics: deps.metrics,
      edge,
      functions: deps.functions ?? functionRegistry(BUILTIN_FUNCTIONS),
      apiTokens: deps.apiTokens ?? [],
      inboundBudgetMs: deps.inboundBudgetMs,
      directory: deps.directory,
      prefetch: deps.prefetch,
      afterAnswers: deps.afterAnswers,
    }),
  );

  // Ready means "can acknowledge webhooks", which takes Postgres only: with Redis down the ingress
  // still stores every delivery (the outbox sweeper enqueues them later), so an orchestrator must not
  // take it out of rotation for that. Redis is reported, not required.
  serveHealth(app, draining, async () => {
    const body = await probeDependencies({
      postgres: () => pingDatabase(deps.db),
      redis: () => (deps.redis.status === 'ready' ? deps.redis.ping() : Promise.reject(new Error(deps.redis.status))),
    });
    return { ok: body.postgres === 'ok', body };
  });

  app.use((req, _res) => {
    throw new HttpError(404, `no route for ${req.method} ${req.path}`);
  });

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    let status = 500;
    let message = 'internal error';
    let headers: Record<string, string> = {};
    if (err instanceof HttpError) {
      ({ status, message, headers } = err);
    } else if (err && typeof err === 'object' && 'type' in err) {
      // body-parser errors carry a type and a status.
      const e = err as { type: string; status?: number; message: string };
      if (e.type === 'entity.too.large') {
        status = 413;
        message = `body exceeds MAX_BODY_BYTES (${deps.maxBodyBytes} bytes)`;
      } else if (e.status && e.status >= 400 && e.status < 500) {
        status = e.status;
        message = e.message;
      }
    }
    if (status >= 500 && status !== 503)
      deps.logger.error('request failed', { method: req.method, path: req.path, err });
    res.status(status).set(headers).json({ error: message });
  };
  app.use(onError);
  return app;
}
