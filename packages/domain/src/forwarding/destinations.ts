import { type Db } from '@callsync/db';
import {
  addDestination,
  findDestination,
  rotateDestinationSecret,
  type ForwardDestination,
  type PayloadMode,
} from '@callsync/db/forward';
import { CALL_EVENTS, CHAT_EVENTS } from '../events/event-types';
import { isEncrypted, type SecretKeyring } from '../privacy/secret-key';
import { checkDestinationUrl, DestinationUrlError, hostOf, isLoopbackHost } from './destination-url';
import { newSigningSecret } from './signing';

/** Event types a destination can ask for: every call and chat event Retell documents. */
export const FORWARDABLE_EVENTS: readonly string[] = [...CALL_EVENTS, ...CHAT_EVENTS];

/** How long a rotated-out secret keeps signing. */
export const SECRET_OVERLAP_HOURS = 24;

export interface DestinationInput {
  url: string;
  events: readonly string[];
  companyId?: string | null;
  payloadMode?: PayloadMode;
  rateLimitPerSecond?: number | null;
  /** Deliveries in flight at once, across every worker. Default 4. */
  maxInFlight?: number;
  /** Fail a 4xx answer (but 408 and 429) at once instead of retrying it. Default false. */
  fail4xx?: boolean;
  /** Consecutive failures that pause it; 0: never. Default 20. */
  breakerThreshold?: number;
  allowLinkLocal?: boolean;
  /** Private and reserved addresses, and plain http, may be used (--allow-private). Default false. */
  allowPrivate?: boolean;
  /**
   * NODE_ENV is development: a destination on this machine (localhost, loopback) is added as if with
   * allowPrivate, so a local receiver works without the flag. Default false.
   */
  development?: boolean;
  description?: string | null;
}

/** Bad destination settings; the message names the setting. */
export class DestinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationError';
  }
}

/**
 * Add a destination after checking it. The secret is stored encrypted with the secret key, returned
 * here in plain text and never shown again.
 */
export async function createDestination(
  db: Db,
  keys: SecretKeyring,
  input: DestinationInput,
): Promise<{ destination: ForwardDestination; secret: string }> {
  let url: string;
  const allowPrivate = input.allowPrivate === true || (input.development === true && onThisMachine(input.url));
  try {
    url = checkDestinationUrl(input.url, { allowLinkLocal: input.allowLinkLocal, allowPrivate });
  } catch (err) {
    if (err instanceof DestinationUrlError) throw new DestinationError(`url: ${err.message}`);
    throw err;
  }
  const events = [...new Set(input.events)];
  if (events.length === 0) throw new DestinationError(`events: name at least one of ${FORWARDABLE_EVENTS.join(', ')}`);
  const unknown = events.filter((e) => !FORWARDABLE_EVENTS.includes(e));
  if (unknown.length)
    throw new DestinationError(`events: unknown ${unknown.join(', ')} (known: ${FORWARDABLE_EVENTS.join(', ')})`);
  const rate = input.rateLimitPerSecond ?? null;
  if (rate !== null && (!Number.isInteger(rate) || rate <= 0))
    throw new DestinationError(`rate limit: ${rate} is not a positive whole number of requests per second`);
  const maxInFlight = input.maxInFlight ?? 4;
  if (!Number.isInteger(maxInFlight) || maxInFlight <= 0)
    throw new DestinationError(`concurrency: ${maxInFlight} is not a positive whole number of deliveries in flight`);
  const breaker = input.breakerThreshold ?? 20;
  if (!Number.isInteger(breaker) || breaker < 0)
    throw new DestinationError(`breaker: ${breaker} is not a whole number of failures (0 turns it off)`);
  const secret = newSigningSecret();
  const destination = await addDestination(db, {
    url,
    events,
    companyId: input.companyId ?? null,
    payloadMode: input.payloadMode ?? 'raw',
    secret: keys.encrypt(secret),
    rateLimitPerSecond: rate,
    breakerThreshold: breaker,
    allowLinkLocal: input.allowLinkLocal ?? false,
    allowPrivate,
    description: input.description ?? null,
    maxInFlight,
    fail4xx: input.fail4xx ?? false,
  });
  return { destination, secret };
}

function onThisMachine(text: string): boolean {
  try {
    return isLoopbackHost(hostOf(new URL(text)));
  } catch {
    return false; // not a URL: checkDestinationUrl says so
  }
}

/**
 * A new secret (stored encrypted, returned in plain text once); the old one also signs for
 * `overlapHours`: SECRET_OVERLAP_HOURS, or 0 when the old one cannot be read any more (encrypted with
 * a key that is lost), which is how a destination recovers from a lost key. Undefined: no such destination.
 */
export async function rotateSecret(
  db: Db,
  keys: SecretKeyring,
  id: string,
): Promise<{ destination: ForwardDestination; secret: string; overlapHours: number } | undefined> {
  const current = await findDestination(db, id);
  if (!current) return undefined;
  const overlapHours = readable(keys, current.secret) ? SECRET_OVERLAP_HOURS : 0;
  const secret = newSigningSecret();
  const destination = await rotateDestinationSecret(db, id, keys.encrypt(secret), overlapHours);
  return destination && { destination, secret, overlapHours };
}

function readable(keys: SecretKeyring, stored: string): boolean {
  if (!isEncrypted(stored)) return true;
  try {
    keys.decrypt(stored);
    return true;
  } catch {
    return false; // a key the ring lacks, or an altered value: it cannot sign
  }
}

/**
 * The plain signing secrets of a destination, current first, the previous one while its overlap
 * lasts. A value stored before the secret key (not `enc:`) is used as it is until `make migrate`
 * encrypts it.
 */
export function signingSecrets(keys: SecretKeyring, d: ForwardDestination, at: Date): string[] {
  const plain = (stored: string) => (isEncrypted(stored) ? keys.decrypt(stored) : stored);
  const previous =
    d.previous_secret && d.previous_secret_expires_at && d.previous_secret_expires_at > at ? [d.previous_secret] : [];
  return [d.secret, ...previous].map(plain);
}
