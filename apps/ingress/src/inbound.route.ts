import { createHash } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { answerInbound } from '@callsync/domain';
import type { InboundAnswerBody } from '@callsync/retell';
import { HttpError } from './http-error';
import { describeZod, liveBody, signedJson, type LiveDeps } from './live-request';
import { AnswerRecorder } from './live-record';

/** Retell's inbound webhook (per phone number): the call rings until this answers. */
export const INBOUND_PATH = '/api/retell/inbound';

/** What callsync reads of the request (docs: inbound-call-webhook; retell-sdk 5.66.1); the rest is kept as sent. */
const inboundParty = z.object({
  from_number: z.string().nullish(),
  to_number: z.string().min(1),
  agent_id: z.string().nullish(),
  agent_version: z.number().int().nullish(),
  /** "for deduplication across HTTP retries" (call_inbound; chat_id for chat_inbound). */
  call_id: z.string().min(1).max(200).nullish(),
  chat_id: z.string().min(1).max(200).nullish(),
  custom_sip_headers: z.record(z.string(), z.unknown()).nullish(),
});

const inboundSchema = z.union([
  z.object({ event: z.literal('call_inbound'), event_timestamp: z.number().nullish(), call_inbound: inboundParty }),
  z.object({ event: z.literal('chat_inbound'), event_timestamp: z.number().nullish(), chat_inbound: inboundParty }),
]);

/**
 * The key an inbound request is recorded under: Retell's id of the call (or chat) when it sends one,
 * so its retries are one record and get one answer; else the body's hash.
 */
function recordKey(event: string, id: string | null | undefined, rawBody: Buffer): string {
  return id ? `${event}:${id}` : `${event}::${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`;
}

export function inboundRoute(deps: LiveDeps): Router {
  const router = express.Router();
  const raw = liveBody(deps);
  const recorder = new AnswerRecorder(deps.backgroundDb ?? deps.db, deps.logger);
  deps.afterAnswers?.(() => recorder.drained());

  router.post(INBOUND_PATH, raw, async (req, res) => {
    const end = deps.metrics.liveLatency.startTimer({ endpoint: 'inbound', name: 'inbound' });
    const receivedAt = new Date();
    let outcome = 'error';
    try {
      const { body, raw: rawBody } = signedJson(req);
      const parsed = inboundSchema.safeParse(body);
      if (!parsed.success) {
        outcome = 'invalid';
        throw new HttpError(400, `invalid inbound webhook: ${describeZod(parsed.error)}`);
      }
      const event = parsed.data.event;
      const party = parsed.data.event === 'call_inbound' ? parsed.data.call_inbound : parsed.data.chat_inbound;
      const subjectId = event === 'call_inbound' ? party.call_id : party.chat_id;
      const answerKey = recordKey(event, subjectId, rawBody);
      const decision = await answerInbound(
        deps.db,
        deps.keys,
        {
          from_number: party.from_number ?? null,
          to_number: party.to_number,
          agent_id: party.agent_id,
          call_id: event === 'call_inbound' ? party.call_id : null,
          answerKey: subjectId ? answerKey : null,
        },
        { budgetMs: deps.inboundBudgetMs, directory: deps.directory, prefetch: deps.prefetch },
      );
      outcome = decision.outcome;
      if (decision.outcome === 'fallback')
        deps.metrics.liveErrors.inc({ endpoint: 'inbound', name: 'inbound', outcome });
      const reply = (
        event === 'call_inbound' ? { call_inbound: decision.answer } : { chat_inbound: decision.answer }
      ) satisfies InboundAnswerBody;
      res.status(200).json(reply);
      deps.logger.info('inbound answered', {
        event,
        call_id: party.call_id,
        outcome: decision.outcome,
        company: decision.company,
        override_agent_id: 'override_agent_id' in decision.answer ? decision.answer.override_agent_id : undefined,
        from_number: party.from_number,
        to_number: party.to_number,
      });
      // For the record, after the answer: the caller is not kept waiting on it. A fallback is not a
      // decision to repeat: a retry is routed afresh.
      recorder.record({
        eventType: event,
        dedupeKey: answerKey,
        callId: event === 'call_inbound' ? (party.call_id ?? null) : null,
        chatId: event === 'chat_inbound' ? (party.chat_id ?? null) : null,
        payloadJson: rawBody.toString('utf8'),
        rawBody,
        signature: req.get('x-retell-signature') ?? null,
        answer: decision.outcome === 'fallback' ? null : decision.answer,
        receivedAt,
      });
    } finally {
      end({ outcome });
    }
  });

  return router;
}
