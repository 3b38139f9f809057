// The bench's load generator, in its own process so it does not share a core's event loop with the
// server it measures. Prints one JSON line with autocannon's result.
//   node load-process.js '<json options>'
import autocannon from 'autocannon';
import { LIFECYCLE_EVENTS } from '@callsync/domain';
import { sampleCall, signRetellBody, sampleWebhookBody, type SampleEvent } from '@callsync/retell';

interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections; omit for as fast as possible. */
  rate?: number;
  /** Sign with this key (callsync ingress); omit for the unsigned baseline. */
  apiKey?: string;
  /** Call id prefix, so runs never collide. */
  runId: string;
  /** What to send: webhooks (default), inbound webhooks, or get_call_context function calls. */
  kind?: 'webhook' | 'inbound' | 'function';
  /** Webhooks: the events of each call, in order. Default the three lifecycle events. */
  events?: SampleEvent[];
  /** Stop after this many requests (instead of after durationSeconds). */
  amount?: number;
  /** The calls started this long ago. Default 2 minutes. */
  startedAgoMs?: number;
}

const options = JSON.parse(process.argv[2]!) as LoadOptions;
const EVENTS: readonly SampleEvent[] = options.events ?? LIFECYCLE_EVENTS;
let n = 0;
let bodyBytes = 0;
const startMs = Date.now() - (options.startedAgoMs ?? 120_000);

/** The i-th request's body: callers vary over 1,000 numbers, as real ones do. */
function bodyFor(i: number): string {
  const caller = `+4917${String(i % 1000).padStart(7, '0')}`;
  if (options.kind === 'inbound')
    return JSON.stringify({ event: 'call_inbound', call_inbound: { from_number: caller, to_number: '+493033081738' } });
  if (options.kind === 'function')
    return JSON.stringify({
      name: 'get_call_context',
      args: { request: i },
      call: sampleCall({ callId: `bench_${options.runId}_${i}`, startMs, fromNumber: caller }, 'call_started'),
    });
  // Every delivery is a distinct event: calls of 3 events each (by default), about 1 KB.
  const perCall = EVENTS.length;
  return sampleWebhookBody(
    { callId: `bench_${options.runId}_${Math.floor(i / perCall)}`, startMs },
    EVENTS[i % perCall]!,
  );
}

const instance = autocannon(
  {
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds }),
    overallRate: options.rate,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const body = bodyFor(n++);
          bodyBytes += Buffer.byteLength(body);
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (options.apiKey) headers['x-retell-signature'] = signRetellBody(body, options.apiKey);
          return { ...req, body, headers };
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        requests: result.requests.total,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        bodyBytes: Math.round(bodyBytes / Math.max(1, n)),
        // This process's own CPU, so the bench can show what the load itself costs the machine.
        cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
      })}\n`,
    );
  },
);
process.on('SIGTERM', () => instance.stop());
