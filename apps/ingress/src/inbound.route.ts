import { createHash } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { recordAnsweredEvent } from '@callsync/db';
import { answerInbound } from '@callsync/domain';
import { HttpError } from './http-error';
import { describeZod, LIVE_MAX_BODY_BYTES, signedJson, type LiveDeps } from './live-request';

/** Retell's inbound webhook (per phone number): the call rings until this answers. */
export const INBOUND_PATH = '/api/retell/inbound';

const inboundParty = z.object({
  from_number: z.string().nullish(),
  to_number: z.string().min(1),
  agent_id: z.string().nullish(),
});

const inboundSchema = z.union([
  z.object({ event: z.literal('call_inbound'), call_inbound: inboundParty }),
  z.object({ event: z.literal('chat_inbound'), chat_inbound: inboundParty }),
]);

export function inboundRoute(deps: LiveDeps): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: LIVE_MAX_BODY_BYTES });

  router.post(INBOUND_PATH, raw, async (req, res) => {
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'inbound', name: 'inbound' });
    let outcome = 'error';
    try {
      const { body, raw: rawBody } = signedJson(deps, req);
      const parsed = inboundSchema.safeParse(body);
      if (!parsed.success) {
        outcome = 'invalid';
        throw new HttpError(400, `invalid inbound webhook: ${describeZod(parsed.error)}`);
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

  return router;
}
