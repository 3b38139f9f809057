import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '@callsync/logger';
import { sign } from 'retell-sdk';
import { waitUntil } from '@callsync/runtime';
import { useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { TEST_API_KEY } from './support/env';
import { startPipeline, WEBHOOK_PATH, type Pipeline } from './support/pipeline';

/*
 * The public routes refuse before they read: a request without a plausible signature, or one
 * declaring too big a body, is answered (and its connection closed) while the client is still
 * holding back most of the body. The test's sockets send the headers and a small part of the body
 * only, so an ingress that waited for the body would never answer.
 */
const t = useTestDatabase();
let p: Pipeline;
let server: Server;
let port: number;

async function start(ingress: Parameters<typeof startPipeline>[1] = {}) {
  p = await startPipeline(t.db, { worker: false, ...ingress });
  server = p.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
}
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await p.close();
});

interface Partial {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Resolves true once the server has closed the connection. */
  closed: Promise<boolean>;
  socket: ReturnType<typeof connect>;
}

/**
 * Send a request's head and the first `sent` bytes of a body of `declared` bytes, and wait for the
 * answer without sending the rest. Rejects if none comes within 5 s (the ingress is waiting for
 * the body).
 */
function sendPartial(
  method: string,
  path: string,
  headers: Record<string, string>,
  declared: number,
  sent: number,
): Promise<Partial> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const closed = new Promise<boolean>((done) => socket.once('close', () => done(true)));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${method} ${path} while the body was held back`));
    }, 5000);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const head = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const rest = text.slice(end + 4);
      if (rest.length < Number(head['content-length'] ?? 0)) return;
      clearTimeout(timer);
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: head, body: rest, closed, socket });
    });
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${declared}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    socket.write(Buffer.alloc(sent, 0x7b));
  });
}

/** A signature header that looks right and is fresh, but was made for another body. */
async function forgedHeader(): Promise<string> {
  return sign('{"some":"other body"}', TEST_API_KEY);
}

async function staleHeader(): Promise<string> {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(Date.now() - 10 * 60_000);
  try {
    return await sign('{}', TEST_API_KEY);
  } finally {
    spy.mockRestore();
  }
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const MB = 1024 * 1024;

describe('public routes refuse before reading the body', () => {
  beforeEach(() => start());

  it.each([
    ['POST', WEBHOOK_PATH],
    ['POST', '/api/retell/inbound'],
    ['POST', '/api/retell/functions/check_availability'],
  ])('%s %s: 401 and a closed connection for a missing, malformed or stale signature', async (method, path) => {
    for (const signature of [undefined, 'sha256=deadbeef', await staleHeader()]) {
      const headers: Record<string, string> = { ...JSON_TYPE };
      if (signature) headers['X-Retell-Signature'] = signature;
      const res = await sendPartial(method, path, headers, 4 * MB, 1024);
      expect(res.status).toBe(401);
      expect(res.body).toMatch(/X-Retell-Signature/);
      expect(res.headers.connection).toBe('close');
      expect(await res.closed).toBe(true);
    }
  });

  it('GET /api/calls/:id/context: 401 and a closed connection without a bearer token, 413 for a body', async () => {
    const unauthorized = await sendPartial('GET', '/api/calls/call_x/context', {}, 4 * MB, 1024);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer');
    expect(unauthorized.headers.connection).toBe('close');
    expect(await unauthorized.closed).toBe(true);
    const withBody = await sendPartial('GET', '/api/calls/call_x/context', { Authorization: 'Bearer x' }, MB, 10);
    expect(withBody.status).toBe(413);
    expect(await withBody.closed).toBe(true);
  });

  it('answers 413 at once for a declared content-length over the limit', async () => {
    const webhook = await sendPartial(
      'POST',
      WEBHOOK_PATH,
      { ...JSON_TYPE, 'X-Retell-Signature': await forgedHeader() },
      6 * MB,
      0,
    );
    expect(webhook.status).toBe(413);
    expect(JSON.parse(webhook.body).error).toBe(`body exceeds MAX_BODY_BYTES (${5 * MB} bytes)`);
    expect(await webhook.closed).toBe(true);
    const live = await sendPartial(
      'POST',
      '/api/retell/inbound',
      { ...JSON_TYPE, 'X-Retell-Signature': await forgedHeader() },
      3 * MB,
      0,
    );
    expect(live.status).toBe(413);
  });

  it('refuses a forged signature once the body is read, and keeps serving signed deliveries', async () => {
    const forged = await sendPartial(
      'POST',
      WEBHOOK_PATH,
      { ...JSON_TYPE, 'X-Retell-Signature': await forgedHeader() },
      2048,
      2048,
    );
    expect(forged.status).toBe(401);
    expect(forged.body).toMatch(/does not match/);
    expect((await p.deliver(body('call_started', { callId: newCallId() }))).status).toBe(200);
  });
});

describe('a process-wide bound on unverified body bytes', () => {
  beforeEach(() => start({ ingress: { maxUnverifiedBytes: 64 * 1024, bodyTimeoutMs: 60_000 } }));

  it('answers 503 at once while other unverified bodies fill the bound, and serves again once they are gone', async () => {
    // A sender with a plausible header that has sent most of the bound and then stalls.
    const header = await forgedHeader();
    const holder = connect(port, '127.0.0.1');
    holder.on('error', () => undefined);
    holder.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `X-Retell-Signature: ${header}\r\nContent-Length: 65400\r\n\r\n`,
    );
    holder.write(Buffer.alloc(65_300, 0x20));
    const payload = body('call_started', { callId: newCallId() });
    const refused = await waitUntil(
      async () => {
        const res = await p.deliver(payload);
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect(refused!.body.error).toMatch(/too many unverified request bodies in flight/);
    expect(refused!.headers['retry-after']).toBe('1');
    // A request that does not fit beside it also gets 503 before being read.
    const more = await sendPartial(
      'POST',
      '/api/retell/inbound',
      { ...JSON_TYPE, 'X-Retell-Signature': header },
      8 * 1024,
      0,
    );
    expect(more.status).toBe(503);
    expect(await more.closed).toBe(true);

    holder.destroy();
    const accepted = await waitUntil(
      async () => {
        const res = await p.deliver(payload);
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect(accepted!.body).toMatchObject({ received: true, duplicate: false });
  });

  it('counts bytes as they arrive: a sender that announces a big body and trickles it holds only what it sent', async () => {
    // It announces nearly the whole bound, and has sent 10 bytes of it.
    const trickler = connect(port, '127.0.0.1');
    trickler.on('error', () => undefined);
    trickler.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `X-Retell-Signature: ${await forgedHeader()}\r\nContent-Length: 65400\r\n\r\n${' '.repeat(10)}`,
    );
    try {
      // A round trip after its head was written, so the ingress has it in hand.
      if (trickler.connecting) await new Promise((resolve) => trickler.once('connect', resolve));
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await p.deliver(body('call_started', { callId: newCallId() }))).status).toBe(200);
    } finally {
      trickler.destroy();
    }
  });
});

describe('a body-read deadline', () => {
  beforeEach(() => start({ ingress: { maxUnverifiedBytes: 64 * 1024, bodyTimeoutMs: 300 } }));

  it('cuts off a sender that trickles its body with 408, and gives back its share of the bound', async () => {
    // Most of the bound sent, then nothing more.
    const slow = await sendPartial(
      'POST',
      WEBHOOK_PATH,
      { ...JSON_TYPE, 'X-Retell-Signature': await forgedHeader() },
      65_400,
      65_300,
    );
    expect(slow.status).toBe(408);
    expect(slow.body).toMatch(/body not received within 300 ms/);
    expect(await slow.closed).toBe(true);
    // The bound is free again: a signed delivery that would not have fit beside it is accepted.
    expect((await p.deliver(body('call_started', { callId: newCallId() }))).status).toBe(200);
  });
});

describe('repeated bad signatures from one address', () => {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    const logger = createLogger({ level: 'warn' });
    logger.clear();
    logger.add(
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      }),
    );
    return start({ logger, ingress: { badSignatureThrottle: { limit: 3, windowMs: 60_000 } } });
  });

  it('are throttled with 429 before anything is read, counted in a metric, and logged once without the body', async () => {
    const marker = 'BODY-MUST-NOT-BE-LOGGED 0160 4366218';
    const forged = JSON.stringify({ event: 'call_started', call: { call_id: newCallId(), note: marker } });
    // Refused on the header alone: cost nothing, do not count (anyone sharing Retell's address could send them).
    for (let i = 0; i < 5; i++) expect((await p.deliver(forged, null)).status).toBe(401);
    for (let i = 0; i < 3; i++) {
      const res = await p.deliver(forged, await forgedHeader());
      expect(res.status).toBe(401);
    }
    // Now even a correctly signed delivery from that address waits out the window.
    const throttled = await p.deliver(body('call_started', { callId: newCallId() }));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    const live = await sendPartial(
      'POST',
      '/api/retell/inbound',
      { ...JSON_TYPE, 'X-Retell-Signature': await forgedHeader() },
      MB,
      10,
    );
    expect(live.status).toBe(429);
    expect(await live.closed).toBe(true);

    const metrics = await p.metrics.registry.metrics();
    expect(metrics).toContain('callsync_ingress_refused_total{reason="bad_signature",service="test"} 8');
    expect(metrics).toContain('callsync_ingress_refused_total{reason="throttled",service="test"} 2');
    const throttling = lines.filter((l) => l.includes('throttling an address after repeated bad signatures'));
    expect(throttling).toHaveLength(1);
    expect(JSON.parse(throttling[0]!)).toMatchObject({ ip: expect.any(String), bad_signatures: 3, window_s: 60 });
    expect(lines.join('\n')).not.toContain('BODY-MUST-NOT-BE-LOGGED');
  });
});
