import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, and whether its Standard Webhooks signature verified. */
export interface ReceivedMessage {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  verified: boolean;
  /** Why it did not verify. */
  error?: string;
  /** What it answered. */
  status: number;
  receivedAt: number;
}

/**
 * What to answer a message: a status code (and body, and `delayMs` to wait before answering, as a
 * slow receiver does, or `until` a promise settles, as a receiver a test holds does), or 'hang'
 * (never answer).
 */
export type ReceiverAnswer =
  | number
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number; until?: Promise<unknown> }
  | 'hang';

export interface ForwardReceiverOptions {
  /** Secrets a signature may verify with (any one). Change `receiver.secrets` to rotate. */
  secrets: string[];
  /** Default: 204 when the signature verifies, 401 when not. */
  respond?: (message: ReceivedMessage) => ReceiverAnswer;
  port?: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A team's webhook receiver on loopback, as a real HTTP server: verifies each request with the
 * `standardwebhooks` library (what a receiver would use) and records it. For tests, `make chaos`
 * and `make demo`.
 */
export class ForwardReceiver {
  readonly received: ReceivedMessage[] = [];
  /** Requests being answered right now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  secrets: string[];
  respond: (message: ReceivedMessage) => ReceiverAnswer;
  private server?: Server;
  private readonly hanging = new Set<IncomingMessage>();

  constructor(private readonly options: ForwardReceiverOptions) {
    this.secrets = [...options.secrets];
    this.respond = options.respond ?? ((m) => (m.verified ? 204 : 401));
  }

  get url(): string {
    const port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${port}/hooks/callsync`;
  }

  /** Messages that verified, by webhook-id: more than one entry for an id is a duplicate. */
  byId(): Map<string, ReceivedMessage[]> {
    const map = new Map<string, ReceivedMessage[]>();
    for (const m of this.received) if (m.status >= 200 && m.status < 300) map.set(m.id, [...(map.get(m.id) ?? []), m]);
    return map;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => (this.inFlight -= 1));
      void readBody(req).then(async (body) => {
        const header = (name: string) => String(req.headers[name] ?? '');
        const message: ReceivedMessage = {
          id: header('webhook-id'),
          timestamp: header('webhook-timestamp'),
          signature: header('webhook-signature'),
          body,
          verified: false,
          status: 0,
          receivedAt: Date.now(),
        };
        const errors: string[] = [];
        for (const secret of this.secrets) {
          try {
            new Webhook(secret).verify(body, {
              'webhook-id': message.id,
              'webhook-timestamp': message.timestamp,
              'webhook-signature': message.signature,
            });
            message.verified = true;
            break;
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        if (!message.verified) message.error = errors.join('; ') || 'no secret to verify with';
        const answer = this.respond(message);
        if (answer === 'hang') {
          message.status = -1;
          this.received.push(message);
          this.hanging.add(req);
          return;
        }
        const a = typeof answer === 'number' ? { status: answer } : answer;
        message.status = a.status;
        this.received.push(message);
        if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
        if (a.until) await a.until;
        if (res.destroyed) return;
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const req of this.hanging) req.socket.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
