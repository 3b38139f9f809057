import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { resolveCallContext } from '@callsync/domain';
import { HttpError } from './http-error';
import type { LiveDeps } from './live-request';

/** Call context for functions hosted elsewhere (bearer token). */
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

  router.get(CONTEXT_PATH, async (req, res) => {
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'context', name: 'context' });
    let outcome = 'error';
    try {
      if (deps.apiTokens.length === 0) {
        outcome = 'off';
        throw new HttpError(404, 'the context API is off: set CALLSYNC_API_TOKENS to turn it on');
      }
      const auth = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
      if (!auth || !tokenMatches(auth[1]!, deps.apiTokens)) {
        outcome = 'unauthorized';
        throw new HttpError(401, 'missing or wrong bearer token (Authorization: Bearer <one of CALLSYNC_API_TOKENS>)', {
          'WWW-Authenticate': 'Bearer',
        });
      }
      const context = await resolveCallContext(deps.db, req.params.call_id!);
      if (!context) {
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
