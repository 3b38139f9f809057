import type express from 'express';
import type { Db } from '@callsync/db';
import type { ContextCache, FunctionRegistry, SecretKeyring, TenantDirectory } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import type { SignatureFailure } from '@callsync/retell';
import type { z } from 'zod';
import { HttpError } from './http-error';
import { signedBody, type EdgeDeps } from './signed-body';

/** Bodies of live requests: a function request carries the transcript so far. */
export const LIVE_MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface LiveDeps {
  db: Db;
  /**
   * The pool for what no answer waits on: records written after their answers (inbound, function
   * results). Its own connections, so a caller's statement never queues behind them. Default `db`.
   */
  backgroundDb?: Db;
  /** CALLSYNC_SECRET_KEY: hashes the caller to find their calls retention pruned. */
  keys: SecretKeyring;
  logger: Logger;
  metrics: Metrics;
  /** The public edge's bounds (signed-body.ts), shared with the webhook route. */
  edge: EdgeDeps;
  functions: FunctionRegistry;
  /** CALLSYNC_API_TOKENS: operator tokens (every company); company tokens live in api_tokens. */
  apiTokens: readonly string[];
  /** Inbound answers wait at most this long for Postgres. Default 1000 ms. */
  inboundBudgetMs?: number;
  /**
   * Routing in memory (schedules, blocklists, variables, companies), refreshed on callsync_tenants:
   * inbound answers route and reject without Postgres. Default none: read from Postgres.
   */
  directory?: TenantDirectory;
  /** Callers prefetched at call_inbound and call_started, for the call's first function. Default none. */
  prefetch?: ContextCache;
  /**
   * Each route hands over how to wait for what it writes after its answers (inbound answers,
   * function results): shutdown waits for all of it before it closes the pool.
   */
  afterAnswers?: (settled: () => Promise<void>) => void;
}

export const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing: 'missing X-Retell-Signature header',
  malformed: 'X-Retell-Signature must look like v=<unix ms>,d=<64 hex digits>',
  stale: 'X-Retell-Signature timestamp is more than 5 minutes away from now',
  mismatch: 'X-Retell-Signature does not match the body',
};

/** The live routes' body reader: refuses before reading, like the webhook route's (signed-body.ts). */
export function liveBody(deps: LiveDeps) {
  return signedBody(deps.edge, {
    maxBytes: LIVE_MAX_BODY_BYTES,
    limitName: `the ${LIVE_MAX_BODY_BYTES}-byte limit of live requests`,
    messages: SIGNATURE_MESSAGES,
    what: 'live request refused',
  });
}

export const describeZod = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');

/** The raw body liveBody verified (empty for a request without one). */
export const verifiedBody = (req: express.Request): Buffer => req.body as Buffer;

/** The verified body, parsed; 400 on bad JSON. */
export function signedJson(req: express.Request): { body: unknown; raw: Buffer } {
  const rawBody = verifiedBody(req);
  try {
    return { body: JSON.parse(rawBody.toString('utf8')), raw: rawBody };
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}
