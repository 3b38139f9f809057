import express, { type Request, type Router } from 'express';
import { FunctionInvoker, type RetellCall } from '@callsync/domain';
import { HttpError } from './http-error';
import { liveBody, signedJson, verifiedBody, type LiveDeps } from './live-request';

/*
 * What Retell sends to a custom function, per method (checked 2026-12 against
 * https://docs.retellai.com/build/conversation-flow/custom-function and
 * https://docs.retellai.com/build/single-multi-prompt/custom-function, and retell-sdk 5.66's
 * CustomTool type in resources/llm.d.ts):
 *   - "Retell sends a request (POST, GET, PUT, PATCH, DELETE) to your specified URL with the
 *     function name and parameters." The SDK: `method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'`,
 *     "Method to use for the request, default to POST."
 *   - Parameters (the args): "Only available for POST, PATCH and PUT requests." For the others the
 *     page offers query parameters: "You can define query parameters to include in the request URL
 *     that Retell appends to your endpoint. There is a switch to change between parameter
 *     description or const value. [...] Description will be resolved by LLM". So a GET or DELETE
 *     carries its args in the query string.
 *   - The body of POST/PUT/PATCH is `{name, call, args}`; with `args_at_root` ("args only" in the
 *     dashboard) "the parameters will be passed as root level JSON object instead of nested under
 *     'args'", so there is no name and no call.
 *   - The signature: "X-Retell-Signature: encrypted request body using your secret key". For GET and
 *     DELETE the custom-function page says: "For `GET` and `DELETE` requests, the request body is
 *     empty. You can use empty string in the verify function." Whether the query string is covered
 *     is not documented (it is not, by that wording).
 * So the signature is verified over the exact bytes received (empty for a GET or DELETE), and when
 * that body is empty the args are the query string. Then
 * the signature binds neither the function nor its args: anyone holding a Retell-signed empty body
 * (valid for the signature tolerance) could call any function with any query. Serve functions with
 * side effects over POST, PUT or PATCH, whose signed body names the function (checked below).
 */

/** Retell's custom functions: the agent waits for the answer mid-conversation. */
export const FUNCTIONS_PATH = '/api/retell/functions/:name';

/** The methods a custom function may be configured with in Retell. */
const FUNCTION_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

type Payload = { args: unknown; call?: RetellCall };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** The query string as args: each key once is a string, repeated keys an array of strings. */
function queryArgs(req: Request): Record<string, string | string[]> {
  const args: Record<string, string | string[]> = {};
  for (const [key, value] of new URL(req.originalUrl, 'http://localhost').searchParams) {
    const seen = args[key];
    args[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return args;
}

/** Args and call of a verified request; 400 if a body names another function than the URL. */
function payload(req: Request, name: string): Payload {
  if ((req.method === 'GET' || req.method === 'DELETE') && verifiedBody(req).length === 0)
    return { args: queryArgs(req) };
  const { body } = signedJson(req);
  // Retell sends {name, call, args}; in "args only" mode the body is the args (and has no name to check).
  const full = isObject(body) && 'args' in body && isObject(body.call);
  if (!full) return { args: body };
  if (body.name !== name) {
    const given = typeof body.name === 'string' ? JSON.stringify(body.name) : 'missing';
    throw new HttpError(400, `function name in the body (${given}) does not match the URL (${JSON.stringify(name)})`);
  }
  const call = body.call as RetellCall;
  if (typeof call.call_id !== 'string') throw new HttpError(400, 'call.call_id must be a string');
  return { args: body.args, call };
}

export function functionsRoute(deps: LiveDeps): Router {
  const router = express.Router();
  const invoker = new FunctionInvoker(
    deps.db,
    deps.keys,
    deps.functions,
    deps.logger,
    { abandoned: (name) => deps.metrics.liveErrors.inc({ endpoint: 'function', name, outcome: 'abandoned' }) },
    { sources: { directory: deps.directory, prefetched: deps.prefetch }, recordsDb: deps.backgroundDb },
  );
  deps.afterAnswers?.(() => invoker.settled());
  const raw = liveBody(deps);

  const handle = async (req: Request<{ name: string }>, res: express.Response) => {
    const name = req.params.name;
    const label = deps.functions.has(name) ? name : 'unknown';
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'function', name: label });
    let outcome = 'error';
    try {
      const { args, call } = payload(req, name);
      const answer = await invoker.invoke({ name, args, call, receivedAt: new Date() });
      outcome = answer.outcome;
      if (answer.status >= 500) deps.metrics.liveErrors.inc({ endpoint: 'function', name: label, outcome });
      if (typeof answer.body === 'string') res.status(answer.status).type('text/plain').send(answer.body);
      else res.status(answer.status).json(answer.body);
    } finally {
      end({ outcome });
    }
  };
  const route = router.route(FUNCTIONS_PATH);
  // Express would answer HEAD with the GET handler, running the function; Retell never sends HEAD.
  route.head((_req, _res) => {
    throw new HttpError(405, `custom functions answer ${FUNCTION_METHODS.join(', ').toUpperCase()}, not HEAD`);
  });
  for (const method of FUNCTION_METHODS) route[method](raw, handle);

  return router;
}
