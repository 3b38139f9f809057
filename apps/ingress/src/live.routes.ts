import express, { type ErrorRequestHandler, type Router } from 'express';
import { pingDatabase } from '@callsync/db';
import { probeDependencies } from '@callsync/metrics';
import { BadSignatureThrottle, type BadSignatureThrottleOptions } from './bad-signature-throttle';
import { contextRoute } from './context.route';
import { functionsRoute } from './functions.route';
import { HttpError } from './http-error';
import { inboundRoute } from './inbound.route';
import type { LiveDeps } from './live-request';
import { UnverifiedBytes } from './unverified-bytes';

/*
 * What Retell asks during a call, answered in the request: the inbound webhook, custom functions,
 * and the context API for functions hosted elsewhere. They read through a pool of their own, so a
 * slow function never takes connections from the webhook path's INSERTs. In production they run in a
 * process of their own (live-main.ts, createLiveApp), so webhook load cannot slow them either; the
 * ingress serves the same paths too, for a single-process setup.
 */

export { CONTEXT_PATH } from './context.route';
export { FUNCTIONS_PATH } from './functions.route';
export { INBOUND_PATH } from './inbound.route';
export { LIVE_MAX_BODY_BYTES, type LiveDeps } from './live-request';

export function liveRoutes(deps: LiveDeps): Router {
  const router = express.Router();
  router.use(inboundRoute(deps), functionsRoute(deps), contextRoute(deps));
  return router;
}

export interface LiveAppDeps extends Omit<LiveDeps, 'edge'> {
  /** RETELL_WEBHOOK_KEYS: a signature valid for any is accepted. */
  webhookKeys: readonly string[];
  signatureToleranceMs: number;
  /** MAX_UNVERIFIED_BYTES of this process. Default 32 MiB. */
  maxUnverifiedBytes?: number;
  /** BODY_READ_TIMEOUT_MS. Default 5000 ms. */
  bodyTimeoutMs?: number;
  badSignatureThrottle?: BadSignatureThrottleOptions;
  /** True once shutting down: /readyz answers 503, answers carry `Connection: close`. */
  draining?: () => boolean;
}

/**
 * The live process's app: the live routes at the ingress's paths, /healthz and /readyz. Ready when it
 * can answer: Postgres reachable, or routing held in memory (inbound answers fail open without
 * Postgres, routed by schedule and blocklist).
 */
export function createLiveApp(deps: LiveAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  const draining = deps.draining ?? (() => false);
  app.use((_req, res, next) => {
    if (draining()) res.set('Connection', 'close');
    next();
  });
  app.use(
    liveRoutes({
      ...deps,
      edge: {
        webhookKeys: deps.webhookKeys,
        signatureToleranceMs: deps.signatureToleranceMs,
        unverified: new UnverifiedBytes(deps.maxUnverifiedBytes ?? 32 * 1024 * 1024),
        bodyTimeoutMs: deps.bodyTimeoutMs ?? 5000,
        throttle: new BadSignatureThrottle(deps.badSignatureThrottle),
        logger: deps.logger,
        metrics: deps.metrics,
      },
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (draining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const body = await probeDependencies({ postgres: () => pingDatabase(deps.db) });
    const routing = deps.directory ? (deps.directory.loaded ? 'in memory' : 'not loaded') : 'from postgres';
    res.status(body.postgres === 'ok' || deps.directory?.loaded ? 200 : 503).json({ ...body, routing });
  });
  app.use((req, _res) => {
    throw new HttpError(404, `no route for ${req.method} ${req.path}`);
  });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const known = err instanceof HttpError;
    if (!known) deps.logger.error('live request failed', { method: req.method, path: req.path, err });
    res
      .status(known ? err.status : 500)
      .set(known ? err.headers : {})
      .json({ error: known ? err.message : 'internal error' });
  };
  app.use(onError);
  return app;
}
