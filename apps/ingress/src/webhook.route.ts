import type { Request, Response } from 'express';
import { classifyDatabaseError, isJsonbEncodingError } from '@callsync/db';
import { type RecordedDelivery } from '@callsync/db/events';
import { identifyDelivery, parseEnvelope } from '@callsync/domain';
import type { Logger } from '@callsync/logger';
import { webhookJobId } from '@callsync/queue';
import type { SignatureFailure } from '@callsync/retell';
import { AbandonedError, BacklogFullError } from '@callsync/runtime';
import type { DeliveryBatcher } from './delivery-batcher';
import { HttpError } from './http-error';
import { toStorableJson } from './jsonb';

export interface WebhookRouteDeps {
  /** Commits rows (batched across concurrent requests) and enqueues their jobs. */
  batcher: DeliveryBatcher;
  logger: Logger;
  /**
   * A delivery still waiting for its INSERT to start after this long is given up and answered 503.
   * Default 4000 ms: the 5 s statement timeout and the 1 s enqueue bound come after it, so even a
   * delivery whose INSERT starts at the last moment is answered within Retell's 10 s.
   */
  requestDeadlineMs?: number;
}

export const WEBHOOK_SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing: 'missing X-Retell-Signature header',
  malformed: 'X-Retell-Signature must look like v=<unix ms>,d=<64 hex digits>',
  stale: 'X-Retell-Signature timestamp is more than 5 minutes away from now',
  mismatch: 'X-Retell-Signature does not match the body for any key in RETELL_WEBHOOK_KEYS (default RETELL_API_KEY)',
};

/**
 * POST /api/webhooks/retell: store `pending` (or count a redelivery), enqueue, answer. It runs after
 * signedBody, so `req.body` is the raw body whose signature checked out. Nothing is processed here;
 * a 2xx means the row is committed.
 */
export function retellWebhookRoute(deps: WebhookRouteDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const rawBody = req.body as Buffer;

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
    // The parsed body, for what runs after the answer (live-announce.ts): parsed once.
    res.locals.body = body;

    const { subject } = envelope;
    const identity = identifyDelivery(envelope, body, rawBody);
    const delivery = {
      eventType: envelope.event,
      callId: subject?.kind === 'call' ? subject.id : null,
      chatId: subject?.kind === 'chat' ? subject.id : null,
      dedupeKey: identity.dedupeKey,
      payloadJson: text,
      rawBody,
      signature: req.get('x-retell-signature') ?? null,
      source: 'webhook' as const,
      snapshotSize: identity.snapshotSize,
    };
    // For the logs: the call or chat the delivery is about.
    const about = subject?.kind === 'chat' ? { chat_id: subject.id } : { call_id: subject?.id ?? null };
    // Stop waiting when the client is gone (its waiter would only hold memory) or the deadline passes.
    const deadlineMs = deps.requestDeadlineMs ?? 4000;
    let entry = deps.batcher.submit(delivery);
    const giveUp = (reason: string) => entry.abandon(reason);
    const onClose = () => {
      if (!res.writableFinished) giveUp('the client closed the connection');
    };
    res.once('close', onClose);
    const deadline = setTimeout(giveUp, deadlineMs, `not written within ${deadlineMs} ms`);
    let stored: RecordedDelivery;
    try {
      stored = await entry.promise.catch((err: unknown) => {
        if (!isJsonbEncodingError(err)) throw err;
        entry = deps.batcher.submit({ ...delivery, payloadJson: toStorableJson(body) });
        return entry.promise;
      });
    } catch (err) {
      if (err instanceof BacklogFullError) {
        deps.logger.warn('webhook refused: ingress overloaded', {
          ...about,
          event: delivery.eventType,
          err: err.message,
        });
        throw new HttpError(503, `${err.message}; retry later`, { 'Retry-After': '2' });
      }
      if (err instanceof AbandonedError) {
        deps.logger.warn('webhook not stored: abandoned while waiting for the database', {
          ...about,
          event: delivery.eventType,
          reason: err.reason,
        });
        throw new HttpError(503, `database too slow; retry later (${err.reason})`, { 'Retry-After': '5' });
      }
      const kind = classifyDatabaseError(err);
      // Retell retries a 503: right for a database that cannot take the row now, or whose schema is
      // not there yet (a deploy whose migrations still run).
      if (kind === 'transient' || kind === 'schema') {
        deps.logger.error(`webhook not stored: database ${kind === 'schema' ? 'schema not ready' : 'unavailable'}`, {
          ...about,
          event: delivery.eventType,
          err,
        });
        throw new HttpError(
          503,
          kind === 'schema' ? 'database schema not ready; retry later' : 'database unavailable; retry later',
          { 'Retry-After': '5' },
        );
      }
      throw err;
    } finally {
      clearTimeout(deadline);
      res.off('close', onClose);
    }

    const log = {
      ...about,
      event: delivery.eventType,
      row_id: stored.id,
      job_id: webhookJobId(stored.id, stored.snapshotSize),
      // The ingress's attempt is Retell's delivery: the first, or which redelivery.
      attempt: stored.deliveryCount,
    };
    deps.logger.info(
      stored.inserted ? 'webhook accepted' : 'webhook redelivery counted',
      subject ? log : { ...log, note: 'no call or chat in the body; stored and skipped' },
    );
    res.locals.outcome = stored.inserted ? 'accepted' : 'duplicate';
    // What res.json() sends, written directly: Express's send path (charset, ETag and freshness
    // checks) cost more than the JSON itself on this path.
    const answer = `{"received":true,"id":${JSON.stringify(stored.id)},"duplicate":${!stored.inserted}}`;
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(answer),
    });
    res.end(answer);
  };
}
