import type { Express } from 'express';
import request from 'supertest';
import { sign } from 'retell-sdk';
import type { Db } from '@callsync/db';
import { addCompany, mapAgent, mapNumber } from '@callsync/db/tenants';
import { BUILTIN_FUNCTIONS, ContextCache, functionRegistry, TenantDirectory } from '@callsync/domain';
import { createLiveApp } from '@callsync/ingress';
import { createLogger } from '@callsync/logger';
import { Metrics } from '@callsync/metrics';
import { TEST_API_KEY } from './env';
import { TEST_KEYS } from './keys';

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

/** Praxis Dr. Weber, with agent_weber and `number` mapped to it (Europe/Berlin). */
export async function addWeberPractice(db: Db, number: string): Promise<void> {
  const company = await addCompany(db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(db, 'agent_weber', company.id);
  await mapNumber(db, number, company.id);
}

/**
 * The live process's app over `liveDb`, as live-main.ts builds it: routing loaded into memory from
 * `db` and a prefetch cache, the built-in functions, requests signed with the test key.
 */
export async function liveAppWithRouting(
  db: Db,
  liveDb: Db,
  /** The pool for records after the answers (live-main.js's second pool); default `liveDb`. */
  backgroundDb?: Db,
): Promise<{ app: Express; directory: TenantDirectory; cache: ContextCache }> {
  const directory = new TenantDirectory(db);
  await directory.refresh();
  const cache = new ContextCache({ maxEntries: 100 });
  const app = createLiveApp({
    db: liveDb,
    backgroundDb,
    keys: TEST_KEYS,
    logger: createLogger({ silent: true }),
    metrics: new Metrics('test', { processMetrics: false }),
    functions: functionRegistry([...BUILTIN_FUNCTIONS]),
    apiTokens: [],
    webhookKeys: [TEST_API_KEY],
    signatureToleranceMs: 5 * 60_000,
    directory,
    prefetch: cache,
  });
  return { app, directory, cache };
}
