import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a signature was refused; the ingress turns it into a 401 message. */
export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck = { ok: true; timestampMs: number } | { ok: false; reason: SignatureFailure };

// Hex digits in either case: retell-sdk compares case-insensitively too.
const HEADER = /^v=(\d{1,16}),d=([0-9a-fA-F]{64})$/;

export interface VerifyOptions {
  /** Accepted distance between the signature's timestamp and now, either way. Default 5 minutes. */
  toleranceMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export type SignatureHeaderCheck =
  | { ok: true; ts: string; hex: string; timestampMs: number }
  | { ok: false; reason: Exclude<SignatureFailure, 'mismatch'> };

/**
 * What can be told from the header alone, before a byte of the body is read: present, well formed,
 * and its timestamp within the tolerance. The ingress refuses on this without reading the body.
 */
export function checkSignatureHeader(
  header: string | undefined,
  { toleranceMs = 5 * 60 * 1000, now = Date.now }: VerifyOptions = {},
): SignatureHeaderCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const m = HEADER.exec(header.trim());
  if (!m) return { ok: false, reason: 'malformed' };
  const [, ts, hex] = m as unknown as [string, string, string];
  const timestampMs = Number(ts);
  if (Math.abs(now() - timestampMs) > toleranceMs) return { ok: false, reason: 'stale' };
  return { ok: true, ts, hex, timestampMs };
}

/**
 * Verify Retell's `X-Retell-Signature: v=<unix ms>,d=<hex HMAC-SHA256(body + timestamp)>` over the
 * body bytes exactly as received. Any of `keys` may match (key rotation). Comparison is constant-time.
 */
export function verifyRetellSignature(
  rawBody: Buffer,
  header: string | undefined,
  keys: readonly string[],
  { toleranceMs = 5 * 60 * 1000, now = Date.now }: VerifyOptions = {},
): SignatureCheck {
  const head = checkSignatureHeader(header, { toleranceMs, now });
  if (!head.ok) return head;
  const { ts, hex, timestampMs } = head;
  const given = Buffer.from(hex, 'hex');
  let match = false;
  for (const key of keys) {
    // Check every key, even after a match, so timing does not reveal which key matched.
    const expected = createHmac('sha256', key).update(rawBody).update(ts).digest();
    if (timingSafeEqual(expected, given)) match = true;
  }
  return match ? { ok: true, timestampMs } : { ok: false, reason: 'mismatch' };
}

/** Produce a header value Retell would send; used by `make demo` when no retell-sdk is at hand. */
export function signRetellBody(rawBody: Buffer | string, apiKey: string, timestampMs = Date.now()): string {
  const d = createHmac('sha256', apiKey).update(rawBody).update(String(timestampMs)).digest('hex');
  return `v=${timestampMs},d=${d}`;
}
