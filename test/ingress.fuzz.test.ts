import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { sign } from 'retell-sdk';
import { signRetellBody } from '@callsync/retell';
import { createTestDatabase, type TestDatabase } from './support/database';
import { TEST_API_KEY } from './support/env';
import { startPipeline, WEBHOOK_PATH, type Pipeline } from './support/pipeline';

/**
 * Property tests: whatever arrives at the public URL, the ingress never answers 5xx, never stores a
 * row without a valid signature, and keeps running.
 */
let t: TestDatabase;
let p: Pipeline;
const accepted = new Set<string>();
beforeAll(async () => {
  t = await createTestDatabase();
  // A small limit keeps oversized bodies cheap to generate; the 5 MB default is tested elsewhere.
  p = await startPipeline(t.db, { worker: false, maxBodyBytes: 64 * 1024 });
});
afterAll(async () => {
  await p.close();
  await t.drop();
});

const printable = fc.string({
  unit: fc.constantFrom(...' !#$%&()*+,-./0123456789:;<=>?@ABCDEFXYZabcdefxyz[]^_{|}~'.split('')),
  maxLength: 80,
});

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/vnd.retell+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '',
  ),
  printable,
);

const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({
      event: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      call: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.integer()), fc.string()),
    })
    .map((v) => JSON.stringify(v)),
  fc
    .record({
      event: fc.constantFrom(
        'call_started',
        'call_ended',
        'call_analyzed',
        'transcript_updated',
        'transfer_started',
        'chat_started',
        '',
        'x'.repeat(150),
      ),
      call: fc.record(
        {
          call_id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
          start_timestamp: fc.oneof(fc.integer(), fc.string(), fc.double()),
          from_number: fc.oneof(fc.string(), fc.constant('anonymous')),
          transcript: fc.string({ unit: 'binary', maxLength: 200 }),
        },
        { requiredKeys: [] },
      ),
    })
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    '',
    '{',
    '{"event":',
    'null',
    '[]',
    '"\\ud800"',
    '{"event":"call_started","call":{"call_id":"a\\u0000b"}}',
    '{"__proto__":{"polluted":1},"event":"call_started","call":{"call_id":"proto"}}',
    '{"event":"call_started","call":{"call_id":"deep","x":' + '['.repeat(5000) + ']'.repeat(5000) + '}}',
  ),
);

const body = fc.oneof(
  { weight: 8, arbitrary: jsonish.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: 60 * 1024, max: 90 * 1024 }).map((n) => Buffer.alloc(n, 'a')) },
);

type SignatureKind = 'valid' | 'missing' | 'garbage' | 'other-key' | 'other-body' | 'stale' | 'future';
const signatureKind = fc.constantFrom<SignatureKind>(
  'valid',
  'valid',
  'valid',
  'missing',
  'garbage',
  'other-key',
  'other-body',
  'stale',
  'future',
);

async function signatureFor(kind: SignatureKind, raw: Buffer, garbage: string): Promise<string | undefined> {
  switch (kind) {
    case 'valid': {
      const text = raw.toString('utf8');
      // retell-sdk signs text; bytes that are not UTF-8 are signed over the raw bytes, as the scheme defines.
      return Buffer.from(text).equals(raw) ? sign(text, TEST_API_KEY) : signRetellBody(raw, TEST_API_KEY);
    }
    case 'missing':
      return undefined;
    case 'garbage':
      return garbage;
    case 'other-key':
      return signRetellBody(raw, 'key_attacker');
    case 'other-body':
      return signRetellBody(Buffer.concat([raw, Buffer.from(' ')]), TEST_API_KEY);
    case 'stale':
      return signRetellBody(raw, TEST_API_KEY, Date.now() - 6 * 60_000);
    case 'future':
      return signRetellBody(raw, TEST_API_KEY, Date.now() + 6 * 60_000);
  }
}

describe('ingress under random input', () => {
  it('never answers 5xx and stores rows only for validly signed, valid webhooks', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, signatureKind, printable, async (raw, ct, kind, garbage) => {
        const sig = await signatureFor(kind, raw, garbage);
        const req = request(p.app).post(WEBHOOK_PATH);
        if (ct) req.set('content-type', ct);
        if (sig !== undefined) req.set('x-retell-signature', sig);
        const res = await req.send(raw);
        expect(res.status).toBeLessThan(500);
        expect(typeof res.body.error === 'string' || res.status === 200).toBe(true);
        if (res.status === 200) {
          expect(kind).toBe('valid');
          accepted.add(res.body.id);
        }
        if (kind !== 'valid') expect(res.status).not.toBe(200);
      }),
      { numRuns: 400 },
    );
    const rows = await t.db.selectFrom('webhook_events').select('id').execute();
    expect(new Set(rows.map((r) => r.id))).toEqual(accepted);
    expect((await request(p.app).get('/healthz')).status).toBe(200);
  });

  it('survives raw garbage on the socket', async () => {
    const server = p.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 1, maxLength: 4000 }),
          fc.constantFrom(
            '',
            'POST /api/webhooks/retell HTTP/1.1\r\nHost: x\r\n',
            'POST /api/webhooks/retell HTTP/1.1\r\nContent-Length: 999999\r\n\r\n',
          ),
          async (bytes, prefix) => {
            await new Promise<void>((resolve) => {
              const socket = connect(port, '127.0.0.1', () => {
                socket.end(Buffer.concat([Buffer.from(prefix), bytes]));
              });
              socket.on('data', () => {});
              socket.on('error', () => resolve());
              socket.on('close', () => resolve());
              socket.setTimeout(1000, () => socket.destroy());
            });
          },
        ),
        { numRuns: 100 },
      );
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
