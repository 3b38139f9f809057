import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { recordAnsweredEvent, type Db } from '@callsync/db';
import {
  answerInbound,
  FunctionInvoker,
  resolveCallContext,
  type FunctionRegistry,
  type RetellCall,
} from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import { verifyRetellSignature, type SignatureFailure } from '@callsync/retell';
import { HttpError } from './http-error';

/*
 * What Retell asks during a call, answered in the request: the inbound webhook, custom functions,
 * and the context API for functions hosted elsewhere. They read through a pool of their own, so a
 * slow function never takes connections from the webhook path's INSERTs.
 */

export const INBOUND_PATH = '/api/retell/inbound';
export const FUNCTIONS_PATH = '/api/retell/functions/:name';
export const CONTEXT_PATH = '/api/calls/:call_id/context';

/** Bodies of live requests: a function request carries the transcript so far. */
export const LIVE_MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface LiveDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  webhookKeys: readonly string[];
  signatureToleranceMs: number;
  functions: FunctionRegistry;
  /** CALLSYNC_API_TOKENS; empty: the context API answers 404. */
  apiTokens: readonly string[];
  /** Inbound answers wait at most this long for Postgres. Default 1000 ms. */
  inboundBudgetMs?: number;
}

const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing: 'missing X-Retell-Signature header',
  malformed: 'X-Retell-Signature must look like v=<unix ms>,d=<64 hex digits>',
  stale: 'X-Retell-Signature timestamp is more than 5 minutes away from now',
  mismatch: 'X-Retell-Signature does not match the body',
};

const inboundParty = z.object({
  from_number: z.string().nullish(),
  to_number: z.string().min(1),
  agent_id: z.string().nullish(),
});

const inboundSchema = z.union([
  z.object({ event: z.literal('call_inbound'), call_inbound: inboundParty }),
  z.object({ event: z.literal('chat_inbound'), chat_inbound: inboundParty }),
]);

const describe = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');

/** Equal strings in time independent of where they differ (hashes make the lengths equal). */
function tokenMatches(given: string, tokens: readonly string[]): boolean {
  const g = createHash('sha256').update(given).digest();
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(g, createHash('sha256').update(t).digest()) || ok;
  return ok;
}

export function liveRoutes(deps: LiveDeps): Router {
  const router = express.Router();
  const invoker = new FunctionInvoker(deps.db, deps.functions, deps.logger);
  const raw = express.raw({ type: () => true, limit: LIVE_MAX_BODY_BYTES });

  /** The verified body, parsed; 401 on a bad signature (nothing runs), 400 on bad JSON. */
  const signedJson = (req: express.Request): { body: unknown; raw: Buffer } => {
    const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifyRetellSignature(rawBody, req.get('x-retell-signature'), deps.webhookKeys, {
      toleranceMs: deps.signatureToleranceMs,
    });
    if (!check.ok) {
      deps.logger.warn('live request refused: bad signature', { path: req.path, reason: check.reason, ip: req.ip });
      throw new HttpError(401, SIGNATURE_MESSAGES[check.reason]);
    }
    try {
      return { body: JSON.parse(rawBody.toString('utf8')), raw: rawBody };
    } catch (err) {
      throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
    }
  };

  router.post(INBOUND_PATH, raw, async (req, res) => {
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'inbound', name: 'inbound' });
    let outcome = 'error';
    try {
      const { body, raw: rawBody } = signedJson(req);
      const parsed = inboundSchema.safeParse(body);
      if (!parsed.success) {
        outcome = 'invalid';
        throw new HttpError(400, `invalid inbound webhook: ${describe(parsed.error)}`);
      }
      const event = parsed.data.event;
      const party = parsed.data.event === 'call_inbound' ? parsed.data.call_inbound : parsed.data.chat_inbound;
      const decision = await answerInbound(
        deps.db,
        { from_number: party.from_number ?? null, to_number: party.to_number, agent_id: party.agent_id },
        { budgetMs: deps.inboundBudgetMs },
      );
      outcome = decision.outcome;
      if (decision.outcome === 'fallback')
        deps.metrics.liveErrors.inc({ endpoint: 'inbound', name: 'inbound', outcome });
      res.status(200).json({ [event]: decision.answer });
      deps.logger.info('inbound answered', {
        event,
        outcome: decision.outcome,
        company: decision.company,
        override_agent_id: decision.answer.override_agent_id,
        from_number: party.from_number,
        to_number: party.to_number,
      });
      // For the record, after the answer: the caller is not kept waiting on it.
      recordAnsweredEvent(deps.db, {
        eventType: event,
        dedupeKey: `${event}::${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`,
        payloadJson: rawBody.toString('utf8'),
        rawBody,
        signature: req.get('x-retell-signature') ?? null,
      }).catch((err: Error) => deps.logger.warn('inbound webhook answered but not recorded', { err: err.message }));
    } finally {
      end({ outcome });
    }
  });

  router.post(FUNCTIONS_PATH, raw, async (req, res) => {
    const name = req.params.name!;
    const label = deps.functions.has(name) ? name : 'unknown';
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'function', name: label });
    let outcome = 'error';
    try {
      const { body } = signedJson(req);
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
