import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, refusedAddress } from './destination-url';

/** Bytes of a response body read at most; the rest is discarded unread. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowLinkLocal: boolean;
  /** Private and reserved addresses, and plain http, may be used (--allow-private). */
  allowPrivate: boolean;
}

export interface SendResult {
  /** null: no answer (refused address, connection error, timeout). */
  statusCode: number | null;
  latencyMs: number;
  /** The first RESPONSE_EXCERPT_BYTES of the body. */
  excerpt: string | null;
  /** The retry-after header, in ms from now, when the receiver sent one. */
  retryAfterMs: number | null;
  error: string | null;
  /** The address refused to be reached: never retried. */
  refused: boolean;
}

class RefusedAddressError extends Error {}

/** retry-after: seconds, or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * One POST to a destination. Redirects are not followed (a 3xx is an answer, and following could
 * lead anywhere); addresses are checked as they are resolved; at most RESPONSE_EXCERPT_BYTES of the
 * answer are read; the whole exchange is bounded by `timeoutMs`. Never throws.
 */
export function sendDelivery(req: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const url = new URL(req.url);
  const plainHttp = url.protocol === 'http:';
  const check = (address: string) => {
    const reason = refusedAddress(address, plainHttp, req);
    if (reason) throw new RefusedAddressError(reason);
  };
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, options, (err, address: string | LookupAddress[], family?: number) => {
      if (err) return callback(err, address as string, family);
      try {
        for (const a of Array.isArray(address) ? address : [{ address, family }]) check(a.address);
      } catch (refusal) {
        return callback(refusal as Error, '', 4);
      }
      (callback as (e: null, a: string | LookupAddress[], f?: number) => void)(null, address, family);
    });
  };
  const host = hostOf(url);
  // An IP literal is never looked up: check it here, before there is a request or a timer.
  const literalRefusal = isIP(host) !== 0 ? refusedAddress(host, plainHttp, req) : undefined;
  if (literalRefusal)
    return Promise.resolve({
      statusCode: null,
      excerpt: null,
      retryAfterMs: null,
      error: `refused: ${literalRefusal}`,
      refused: true,
      latencyMs: performance.now() - started,
    });
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs' | 'refused'> & { refused?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, refused: r.refused ?? false, latencyMs: performance.now() - started });
    };
    const fail = (err: Error) =>
      finish({
        statusCode: null,
        excerpt: null,
        retryAfterMs: null,
        error: err instanceof RefusedAddressError ? `refused: ${err.message}` : err.message || String(err),
        refused: err instanceof RefusedAddressError,
      });
    const body = Buffer.from(req.body, 'utf8');
    const request = (plainHttp ? http : https).request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'callsync-forwarder',
        ...req.headers,
      },
      lookup,
      agent: false,
    });
    const timer = setTimeout(() => {
      fail(new Error(`no answer within ${req.timeoutMs} ms`));
      request.destroy();
    }, req.timeoutMs);
    request.on('error', fail);
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const retryAfter = res.headers['retry-after'];
        finish({
          statusCode: res.statusCode ?? null,
          excerpt: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'),
          retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
          error: null,
        });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_EXCERPT_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    request.end(body);
  });
}
