import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { useApiToken } from '@callsync/db/tenants';
import { resolveCallContext, tokenSha256 } from '@callsync/domain';
import { HttpError } from './http-error';
import type { LiveDeps } from './live-request';
import { countBadSignature, refuseAndClose, refuseThrottled } from './signed-body';

/**
 * Call context for functions hosted elsewhere (bearer token). A company's token (make tokens) reads
 * only that company's calls: any other call is a 404, the same as a call callsync does not know, so a
 * token says nothing about other companies. Operator tokens (CALLSYNC_API_TOKENS, or make tokens
 * add --all) read every call.
 */
export const CONTEXT_PATH = '/api/calls/:call_id/context';

/** Equal strings in time independent of where they differ (hashes make the lengths equal). */
function tokenMatches(given: string, tokens: readonly string[]): boolean {
  const g = createHash('sha256').update(given).digest();
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(g, createHash('sha256').update(t).digest()) || ok;
  return ok;
}

export function contextRoute(deps: LiveDeps): Router {
  const router = express.Router();

  /** Whose calls a token reads: `companyId` null for an operator token; undefined for no valid token. */
  const tokenScope = async (token: string): Promise<{ companyId: string | null } | undefined> => {
    if (tokenMatches(token, deps.apiTokens)) return { companyId: null };
    const stored = await useApiToken(deps.db, tokenSha256(token));
    return stored ? { companyId: stored.company_id } : undefined;
  };

  router.get(CONTEXT_PATH, async (req, res) => {
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'context', name: 'context' });
    let outcome = 'error';
    try {
      if (refuseThrottled(deps.edge, req, res)) {
        outcome = 'throttled';
        return;
      }
      const unauthorized = (costly: boolean) => {
        outcome = 'unauthorized';
        countBadSignature(deps.edge, req, 'context request refused', 'bearer token', costly);
        return new HttpError(
          401,
          'missing or wrong bearer token (Authorization: Bearer <a token from make tokens, or one of CALLSYNC_API_TOKENS>)',
          { 'WWW-Authenticate': 'Bearer' },
        );
      };
      const auth = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
      // Refused before anything of the request's body is read, and the connection closed: this
      // API takes no body, and without a token nothing more of the request is worth reading.
      if (!auth) {
        const e = unauthorized(false);
        return refuseAndClose(res, e.status, e.message, e.headers);
      }
      if (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 0) {
        outcome = 'invalid';
        return refuseAndClose(res, 413, 'the context API takes no request body');
      }
      const scope = await tokenScope(auth[1]!);
      if (!scope) throw unauthorized(true);
      const context = await resolveCallContext(deps.db, deps.keys, req.params.call_id!);
      if (!context || (scope.companyId !== null && context.company?.id !== scope.companyId)) {
        outcome = 'not_found';
        throw new HttpError(404, `callsync knows nothing of call ${req.params.call_id}`);
      }
      outcome = 'ok';
      res.json(context);
    } finally {
      end({ outcome });
    }
  });

  return router;
}
