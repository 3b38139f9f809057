import express, { type Router } from 'express';
import { FunctionInvoker, type RetellCall } from '@callsync/domain';
import { HttpError } from './http-error';
import { LIVE_MAX_BODY_BYTES, signedJson, type LiveDeps } from './live-request';

/** Retell's custom functions: the agent waits for the answer mid-conversation. */
export const FUNCTIONS_PATH = '/api/retell/functions/:name';

export function functionsRoute(deps: LiveDeps): Router {
  const router = express.Router();
  const invoker = new FunctionInvoker(deps.db, deps.functions, deps.logger);
  const raw = express.raw({ type: () => true, limit: LIVE_MAX_BODY_BYTES });

  router.post(FUNCTIONS_PATH, raw, async (req, res) => {
    const name = req.params.name!;
    const label = deps.functions.has(name) ? name : 'unknown';
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'function', name: label });
    let outcome = 'error';
    try {
      const { body } = signedJson(deps, req);
      // Retell sends {name, call, args}; in "args only" mode the body is the args.
      const full =
        body !== null &&
        typeof body === 'object' &&
        'args' in body &&
        'call' in body &&
        typeof (body as { call?: unknown }).call === 'object';
      const call = full ? (body as { call: RetellCall }).call : undefined;
      if (call && typeof call.call_id !== 'string') throw new HttpError(400, 'call.call_id must be a string');
      const answer = await invoker.invoke({
        name,
        args: full ? (body as { args: unknown }).args : body,
        call,
        receivedAt: new Date(),
      });
      outcome = answer.outcome;
      if (answer.status >= 500) deps.metrics.liveErrors.inc({ endpoint: 'function', name: label, outcome });
      if (typeof answer.body === 'string') res.status(answer.status).type('text/plain').send(answer.body);
      else res.status(answer.status).json(answer.body);
    } finally {
      end({ outcome });
    }
  });

  return router;
}
