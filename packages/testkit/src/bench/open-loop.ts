// The bench's open-loop load for the live routes, in its own process: each request leaves at its
// scheduled time whether or not earlier ones have answered, as Retell sends (a caller does not wait
// for another call's answer). Latency counts from the scheduled time, so a generator that falls
// behind shows up as latency instead of hiding it. Every answer that is not 2xx counts.
//   node open-loop.js '<json options>'   prints one JSON line
import http from 'node:http';
import { sampleCall, signRetellBody } from '@callsync/retell';

export interface OpenLoopOptions {
  url: string;
  apiKey: string;
  /** Invocations per second; 0 with `sequential`. */
  rate: number;
  durationSeconds: number;
  runId: string;
  /** inbound webhooks, get_call_context calls, or the budget server's heavy-tailed function. */
  kind: 'inbound' | 'function' | 'budget';
  /** One request at a time, `count` of them: the idle latency. */
  sequential?: { count: number };
  /**
   * Retell-style retries (budget): an attempt without an answer after `afterMs`, or answered non-2xx,
   * is sent again with the same tool_call_id, up to `max` times; `duplicateShare` of invocations are
   * also sent a second time 20 ms after the first (a duplicate on the way).
   */
  retry?: { afterMs: number; max: number; duplicateShare: number };
  /** Give up on an attempt after this long (Retell's own limit is the tool's timeout). Default 10 s. */
  timeoutMs?: number;
  /** Return every answered invocation's scheduled time and latency (`samples`), e.g. to leave out outages. */
  keepSamples?: boolean;
}

export interface OpenLoopResult {
  invocations: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Answers that were not 2xx (every attempt counts). */
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Attempts sent again (budget). */
  retries: number;
  /** How far behind schedule the generator sent, p99 ms: large means the figures include its lag. */
  sendLagP99: number;
  cpuMicros: number;
  /** With `keepSamples`: each answered invocation's scheduled time (ms epoch) and latency (ms). */
  samples?: { at: number; ms: number }[];
  /** Invocations never answered 2xx, whatever the retries. */
  unanswered: number;
  /** With `keepSamples`: the scheduled times (ms epoch) of the invocations never answered 2xx. */
  unansweredAt?: number[];
}

/** The caller of the generator's `i`th invocation: a thousand callers, each calling again. */
export const benchCaller = (i: number) => `+4917${String(i % 1000).padStart(7, '0')}`;

/** The call id of the `i`th invocation of run `runId`. */
export const benchCallId = (runId: string, i: number) => `bench_${runId}_${i}`;

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function send(url: URL, body: string, apiKey: string, timeoutMs: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-retell-signature': signRetellBody(body, apiKey),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url);
  const startMs = Date.now() - 120_000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const latencies: number[] = [];
  const samples: { at: number; ms: number }[] = [];
  let unanswered = 0;
  const unansweredAt: number[] = [];
  const failed = (scheduled: number) => {
    unanswered += 1;
    if (o.keepSamples) unansweredAt.push(scheduled);
  };
  const answeredAt = (scheduled: number) => {
    const ms = Date.now() - scheduled;
    latencies.push(ms);
    if (o.keepSamples) samples.push({ at: scheduled, ms });
  };
  const lags: number[] = [];
  let requests = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let retries = 0;

  const bodyFor = (i: number): string => {
    const caller = benchCaller(i);
    if (o.kind === 'inbound')
      return JSON.stringify({
        event: 'call_inbound',
        call_inbound: { from_number: caller, to_number: '+493033081738', call_id: benchCallId(o.runId, i) },
      });
    const name = o.kind === 'budget' ? 'bench_lookup' : 'get_call_context';
    const args = o.kind === 'budget' ? { invocation: `${o.runId}_${i}` } : { request: i };
    const call = sampleCall({ callId: benchCallId(o.runId, i), startMs, fromNumber: caller }, 'call_started');
    return JSON.stringify({
      name,
      args,
      call: {
        ...call,
        transcript_with_tool_calls: [
          ...(call.transcript_with_tool_calls ?? []),
          { role: 'tool_call_invocation', tool_call_id: `tc_${o.runId}_${i}`, name, arguments: JSON.stringify(args) },
        ],
      },
    });
  };

  /** One attempt: its status, or 0 for an error or a timeout (counted). */
  const attempt = async (body: string): Promise<number> => {
    requests += 1;
    try {
      const { status } = await send(url, body, o.apiKey, timeoutMs);
      if (status < 200 || status >= 300) non2xx += 1;
      return status;
    } catch (err) {
      if ((err as Error).message === 'timeout') timeouts += 1;
      else errors += 1;
      return 0;
    }
  };

  /** One invocation: its attempts (retries, a duplicate) until one answers 2xx; latency to that answer. */
  const invoke = async (i: number, scheduled: number): Promise<void> => {
    lags.push(Date.now() - scheduled);
    const body = bodyFor(i);
    if (!o.retry) {
      const status = await attempt(body);
      if (status >= 200 && status < 300) answeredAt(scheduled);
      else failed(scheduled);
      return;
    }
    const retry = o.retry;
    const answered = await new Promise<boolean>((resolve) => {
      let settled = false;
      let inFlight = 0;
      let sent = 0;
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        if (ok) answeredAt(scheduled);
        else failed(scheduled);
        resolve(ok);
      };
      const fire = () => {
        sent += 1;
        inFlight += 1;
        let timer: NodeJS.Timeout | undefined;
        // Retell retries an attempt that has not answered in time, or answered badly.
        if (sent <= retry.max)
          timer = setTimeout(() => {
            if (!settled && sent <= retry.max) {
              retries += 1;
              fire();
            }
          }, retry.afterMs);
        void attempt(body).then((status) => {
          inFlight -= 1;
          clearTimeout(timer);
          if (status >= 200 && status < 300) return done(true);
          if (!settled && sent <= retry.max) {
            retries += 1;
            fire();
          } else if (inFlight === 0) done(false);
        });
      };
      fire();
      if (Math.random() < retry.duplicateShare)
        setTimeout(() => {
          if (!settled) void attempt(body);
        }, 20);
    });
    void answered;
  };

  const began = Date.now();
  const pending: Promise<void>[] = [];
  let invocations = 0;
  if (o.sequential) {
    for (let i = 0; i < o.sequential.count; i++) {
      invocations += 1;
      await invoke(i, Date.now());
    }
  } else {
    const total = Math.round(o.rate * o.durationSeconds);
    const interval = 1000 / o.rate;
    for (let i = 0; i < total; i++) {
      const scheduled = began + i * interval;
      const wait = scheduled - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      invocations += 1;
      pending.push(invoke(i, scheduled));
    }
    await Promise.all(pending);
  }
  const seconds = (Date.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  agent.destroy();
  return {
    invocations,
    requests,
    rps: Math.round(invocations / Math.max(0.001, seconds)),
    p50: pct(latencies, 50),
    p90: pct(latencies, 90),
    p99: pct(latencies, 99),
    max: latencies.at(-1) ?? 0,
    non2xx,
    errors,
    timeouts,
    retries,
    sendLagP99: pct(lags, 99),
    cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
    unanswered,
    ...(o.keepSamples ? { samples, unansweredAt } : {}),
  };
}

if (require.main === module) {
  runOpenLoop(JSON.parse(process.argv[2]!) as OpenLoopOptions).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
