import express, { type ErrorRequestHandler, type Router } from 'express';
import { pingDatabase } from '@callsync/db';
import { probeDependencies } from '@callsync/metrics';
import { baseApp, edgeOf, serveHealth, type EdgeSettings } from './app-base';
import { contextRoute } from './context.route';
import { functionsRoute } from './functions.route';
import { HttpError } from './http-error';
import { inboundRoute } from './inbound.route';
import type { LiveDeps } from './live-request';

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

export interface LiveAppDeps extends Omit<LiveDeps, 'edge'>, EdgeSettings {
  /** True once shutting down: /readyz answers 503, answers carry `Connection: close`. */
  draining?: () => boolean;
}

/**
 * The live process's app: the live routes at the ingress's paths, /healthz and /readyz. Ready when it
 * can answer: Postgres reachable, or routing held in memory (inbound answers fail open without
 * Postgres, routed by schedule and blocklist).
 */
export function createLiveApp(deps: LiveAppDeps): express.Express {
  const draining = deps.draining ?? (() => false);
  const app = baseApp(draining);
  app.use(liveRoutes({ ...deps, edge: edgeOf(deps) }));
  serveHealth(app, draining, async () => {
    const body = await probeDependencies({ postgres: () => pingDatabase(deps.db) });
    const routing = deps.directory ? (deps.directory.loaded ? 'in memory' : 'not loaded') : 'from postgres';
    return { ok: body.postgres === 'ok' || Boolean(deps.directory?.loaded), body: { ...body, routing } };
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
