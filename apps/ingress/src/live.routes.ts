import express, { type Router } from 'express';
import { contextRoute } from './context.route';
import { functionsRoute } from './functions.route';
import { inboundRoute } from './inbound.route';
import type { LiveDeps } from './live-request';

/*
 * What Retell asks during a call, answered in the request: the inbound webhook, custom functions,
 * and the context API for functions hosted elsewhere. They read through a pool of their own, so a
 * slow function never takes connections from the webhook path's INSERTs.
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
