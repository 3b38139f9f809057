import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/*
 * Standard Webhooks (https://www.standardwebhooks.com): each request carries webhook-id (stable
 * across retries), webhook-timestamp (seconds) and webhook-signature ("v1,<base64 HMAC-SHA256>" per
 * secret, space-separated). Any Standard Webhooks or Svix library verifies it.
 */

/** A fresh signing secret in the Standard Webhooks format: whsec_ and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The first characters of a secret, enough to tell two apart and to never reveal one. */
export function secretHint(secret: string): string {
  return `${secret.slice(0, 10)}…`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Sign a body with every secret given (the current one, and the previous during a rotation). */
export function signDelivery(secrets: readonly string[], messageId: string, at: Date, body: string): SignedHeaders {
  const timestamp = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp.getTime() / 1000),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(messageId, timestamp, body)).join(' '),
  };
}
