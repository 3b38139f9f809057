import express from 'express';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import { BadSignatureThrottle, type BadSignatureThrottleOptions } from './bad-signature-throttle';
import type { EdgeDeps } from './signed-body';
import { UnverifiedBytes } from './unverified-bytes';

/* What the ingress's app and the live process's app are both made of. */

/** The settings of a process's public edge (signed-body.ts). */
export interface EdgeSettings {
  /** RETELL_WEBHOOK_KEYS: a signature valid for any is accepted. */
  webhookKeys: readonly string[];
  signatureToleranceMs: number;
  /**
   * MAX_UNVERIFIED_BYTES: body bytes of requests whose signature is not verified yet, across every
   * public route of the process; a request that does not fit is answered 503 before it is read.
   * Default 32 MiB.
   */
  maxUnverifiedBytes?: number;
  /** BODY_READ_TIMEOUT_MS: a request's body must have arrived within this (else 408). Default 5000 ms. */
  bodyTimeoutMs?: number;
  /** Repeated 401s from one address: 429 for the rest of the window. Default 20 per 60 s. */
  badSignatureThrottle?: BadSignatureThrottleOptions;
  logger: Logger;
  metrics: Metrics;
}

/** One process's edge: every public route of it shares the bound of unverified bytes and the throttle. */
export function edgeOf(s: EdgeSettings): EdgeDeps {
  return {
    webhookKeys: s.webhookKeys,
    signatureToleranceMs: s.signatureToleranceMs,
    unverified: new UnverifiedBytes(s.maxUnverifiedBytes ?? 32 * 1024 * 1024),
    bodyTimeoutMs: s.bodyTimeoutMs ?? 5000,
    throttle: new BadSignatureThrottle(s.badSignatureThrottle),
    logger: s.logger,
    metrics: s.metrics,
  };
}

/**
 * An app with nothing cached, behind a loopback proxy, whose answers close keep-alive connections
 * once the process drains: clients reconnect through the load balancer to an instance that stays.
 */
export function baseApp(draining: () => boolean): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every response body for an ETag; nothing here is cached, so skip it.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use((_req, res, next) => {
    if (draining()) res.set('Connection', 'close');
    next();
  });
  return app;
}

/** /healthz, and /readyz: 503 while draining, else what `ready` says (status and body). */
export function serveHealth(
  app: express.Express,
  draining: () => boolean,
  ready: () => Promise<{ ok: boolean; body: Record<string, unknown> }>,
): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (draining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const { ok, body } = await ready();
    res.status(ok ? 200 : 503).json(body);
  });
}
