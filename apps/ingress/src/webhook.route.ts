import type { RequestHandler } from 'express';
import { classifyDatabaseError, type RecordedDelivery } from '@callsync/db';
import { dedupeKeyFor, isSnapshotEvent, parseEnvelope } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { webhookJobId } from '@callsync/queue';
import { verifyRetellSignature, type SignatureFailure } from '@callsync/retell';
import type { DeliveryBatcher } from './delivery-batcher';
import { HttpError } from './http-error';
import { isJsonbEncodingError, toStorableJson } from './jsonb';

export interface WebhookRouteDeps {
  /** Commits rows (batched across concurrent requests) and enqueues their jobs. */
  batcher: DeliveryBatcher;
  logger: Logger;
  webhookKeys: readonly string[];
  signatureToleranceMs: number;
}

const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing: 'missing X-Retell-Signature header',
  malformed: 'X-Retell-Signature must look like v=<unix ms>,d=<64 hex digits>',
  stale: 'X-Retell-Signature timestamp is more than 5 minutes away from now',
  mismatch: 'X-Retell-Signature does not match the body for any key in RETELL_WEBHOOK_KEYS (default RETELL_API_KEY)',
};

/**
 * POST /api/webhooks/retell: verify, store `pending` (or count a redelivery), enqueue, answer.
 * Nothing is processed here; a 2xx means the row is committed.
 */
export function retellWebhookRoute(deps: WebhookRouteDeps): RequestHandler {
  return async (req, res) => {
    const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.get('x-retell-signature');
    const check = verifyRetellSignature(rawBody, signature, deps.webhookKeys, { toleranceMs: deps.signatureToleranceMs });
    if (!check.ok) {
      deps.logger.warn('webhook refused: bad signature', { reason: check.reason, ip: req.ip });
      throw new HttpError(401, SIGNATURE_MESSAGES[check.reason]);
    }

    const text = rawBody.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw new HttpError(400, `invalid webhook: ${parsed.message}`);
    const { envelope } = parsed;
    res.locals.event = envelope.event;

    const delivery = {
      eventType: envelope.event,
      callId: envelope.call.call_id,
      dedupeKey: dedupeKeyFor(envelope, rawBody),
      payloadJson: text,
      rawBody,
      signature: signature ?? null,
      source: 'webhook' as const,
      replacesSnapshot: isSnapshotEvent(envelope.event),
    };
    let stored: RecordedDelivery;
    try {
      stored = await deps.batcher.submit(delivery).catch((err: unknown) => {
        if (!isJsonbEncodingError(err)) throw err;
        return deps.batcher.submit({ ...delivery, payloadJson: toStorableJson(body) });
      });
    } catch (err) {
      const kind = classifyDatabaseError(err);
      // Retell retries a 503: right for a database that cannot take the row now, or whose schema is
      // not there yet (a deploy whose migrations still run).
      if (kind === 'transient' || kind === 'schema') {
        deps.logger.error(`webhook not stored: database ${kind === 'schema' ? 'schema not ready' : 'unavailable'}`, { call_id: delivery.callId, event: delivery.eventType, err });
        throw new HttpError(503, kind === 'schema' ? 'database schema not ready; retry later' : 'database unavailable; retry later', { 'Retry-After': '5' });
      }
      throw err;
    }

    const log = {
      call_id: delivery.callId,
      event: delivery.eventType,
      row_id: stored.id,
      job_id: webhookJobId(stored.id),
      // The ingress's attempt is Retell's delivery: the first, or which redelivery.
      attempt: stored.deliveryCount,
    };
    deps.logger.info(stored.inserted ? 'webhook accepted' : 'webhook redelivery counted', log);
    res.locals.outcome = stored.inserted ? 'accepted' : 'duplicate';
    res.status(200).json({ received: true, id: stored.id, duplicate: !stored.inserted });
  };
}
