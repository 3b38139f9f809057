import type { Express } from 'express';
import request from 'supertest';
import { sign } from 'retell-sdk';
import { TEST_API_KEY } from './env';

/**
 * POST `payload` as JSON to one of the ingress's live routes (inbound webhook, custom functions),
 * signed as Retell signs it (retell-sdk's `sign`), or with the given X-Retell-Signature.
 */
export async function signedPost(app: Express, path: string, payload: unknown, signature?: string) {
  const text = JSON.stringify(payload);
  return request(app)
    .post(path)
    .set('content-type', 'application/json')
    .set('x-retell-signature', signature ?? (await sign(text, TEST_API_KEY)))
    .send(text);
}
