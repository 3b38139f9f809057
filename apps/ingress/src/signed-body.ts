import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '@callsync/logger';
import type { Metrics } from '@callsync/metrics';
import { checkSignatureHeader, verifyRetellSignature, type SignatureFailure } from '@callsync/retell';
import type { BadSignatureThrottle } from './bad-signature-throttle';
import type { UnverifiedBytes } from './unverified-bytes';

/*
 * The public routes' first step, before a byte of the body is read: anyone can reach them, so a
 * request must show it may be Retell's before it costs memory. In order:
 *   0. an address throttled for repeated bad signatures: 429;
 *   1. no, malformed or stale X-Retell-Signature: 401 (the header alone tells);
 *   2. a declared content-length over the route's limit: 413;
 *   3. no room under the process-wide bound of unverified body bytes: 503;
 *   4. the body, read within a deadline (408 for a sender that trickles), then the HMAC: 401 on a
 *      mismatch.
 * Every refusal before the body is read closes the connection: Node then reads nothing more of it.
 */

export interface EdgeDeps {
  webhookKeys: readonly string[];
  signatureToleranceMs: number;
  unverified: UnverifiedBytes;
  /** A body must have arrived this long after the request began. */
  bodyTimeoutMs: number;
  /** Addresses that keep sending bad signatures (429 before anything is read). */
  throttle: BadSignatureThrottle;
  logger: Logger;
  metrics: Metrics;
}

export interface SignedBodyOptions {
  /** Largest body, and the setting it comes from (named in the 413). */
  maxBytes: number;
  limitName: string;
  /** The 401's message per failure. */
  messages: Record<SignatureFailure, string>;
  /** Start of the log line of a refusal (`webhook refused`). */
  what: string;
}

const EMPTY = Buffer.alloc(0);

/** Answer and close the connection: whatever of the body is still on its way is never read. */
export function refuseAndClose(res: Response, status: number, message: string, headers: Record<string, string> = {}) {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: message });
  res.writeHead(status, {
    ...headers,
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answer 429 if the address is throttled for repeated bad signatures; true when it was. */
export function refuseThrottled(deps: EdgeDeps, req: Request, res: Response): boolean {
  const wait = deps.throttle.retryAfterSeconds(req.ip ?? '');
  if (wait === 0) return false;
  deps.metrics.edgeRefusals.inc({ reason: 'throttled' });
  res.locals.outcome = 'throttled';
  refuseAndClose(res, 429, `too many bad signatures from this address; retry in ${wait} s`, {
    'Retry-After': String(wait),
  });
  return true;
}

/**
 * Log and count a 401; the line carries why and from where, never the body. Only a refusal that cost
 * work counts against the address (`costly`: a body read for a signature that did not match, a token
 * looked up): one the header alone refused cost nothing, and counting it would let anyone who shares
 * an address with Retell (a NAT, a proxy) get Retell throttled for free.
 */
export function countBadSignature(deps: EdgeDeps, req: Request, what: string, reason: string, costly: boolean): void {
  deps.metrics.edgeRefusals.inc({ reason: 'bad_signature' });
  deps.logger.warn(`${what}: bad signature`, { path: req.path, reason, ip: req.ip });
  if (costly && deps.throttle.refused(req.ip ?? ''))
    deps.logger.warn('throttling an address after repeated bad signatures', {
      ip: req.ip,
      path: req.path,
      bad_signatures: deps.throttle.limit,
      window_s: deps.throttle.windowMs / 1000,
    });
}

/** The declared body length: a number, `chunked` (unknown until read), or 0 for none. */
function declaredLength(req: Request): number | 'chunked' {
  const length = req.headers['content-length'];
  // Node's parser has already refused a malformed or doubled content-length.
  if (length !== undefined) return Number(length);
  return req.headers['transfer-encoding'] ? 'chunked' : 0;
}

/** Middleware: `req.body` becomes the raw body whose X-Retell-Signature checked out; refuses otherwise. */
export function signedBody(deps: EdgeDeps, o: SignedBodyOptions): RequestHandler {
  const tolerance = { toleranceMs: deps.signatureToleranceMs };
  const badSignature = (req: Request, res: Response, reason: SignatureFailure) => {
    countBadSignature(deps, req, o.what, reason, reason === 'mismatch');
    res.locals.outcome = 'bad_signature';
    refuseAndClose(res, 401, o.messages[reason]);
  };

  const tooLarge = (res: Response) => {
    deps.metrics.edgeRefusals.inc({ reason: 'too_large' });
    refuseAndClose(res, 413, `body exceeds ${o.limitName} (${o.maxBytes} bytes)`);
  };

  return (req, res, next) => {
    if (refuseThrottled(deps, req, res)) return;
    const header = req.get('x-retell-signature');
    const head = checkSignatureHeader(header, tolerance);
    if (!head.ok) return badSignature(req, res, head.reason);
    const declared = declaredLength(req);
    if (typeof declared === 'number' && declared > o.maxBytes) return tooLarge(res);

    const verify = (body: Buffer) => {
      const check = verifyRetellSignature(body, header, deps.webhookKeys, tolerance);
      if (!check.ok) return badSignature(req, res, check.reason);
      req.body = body;
      next();
    };
    if (declared === 0) return verify(EMPTY);

    // Counted, not logged: under a flood a line per refusal would cost more than the refusal.
    const full = () => {
      deps.metrics.edgeRefusals.inc({ reason: 'unverified_full' });
      refuseAndClose(res, 503, 'too many unverified request bodies in flight; retry later', { 'Retry-After': '1' });
    };
    if (typeof declared === 'number' && !deps.unverified.fits(declared)) return full();

    // Pages of an unsafe allocation cost memory only once written, so this holds what arrived.
    const whole = typeof declared === 'number' ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (then: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      deps.unverified.give(received);
      then();
    };
    const deadline = setTimeout(
      () =>
        finish(() => {
          deps.metrics.edgeRefusals.inc({ reason: 'body_timeout' });
          deps.logger.warn(`${o.what}: body too slow`, { path: req.path, ip: req.ip, received });
          refuseAndClose(res, 408, `body not received within ${deps.bodyTimeoutMs} ms`);
        }),
      deps.bodyTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > o.maxBytes) return finish(() => tooLarge(res));
      if (!deps.unverified.take(chunk.length)) return finish(full);
      if (whole) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = () => finish(() => verify(whole ? whole.subarray(0, received) : Buffer.concat(chunks, received)));
    // The client went away: nothing to answer, only the reservation to give back.
    const onGone = () => finish(() => undefined);
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
  };
}
