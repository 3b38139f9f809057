import { createHash } from 'node:crypto';
import { claimInvocation, countReplay, finishInvocation, type Db, type FunctionCallStatus } from '@callsync/db';
import type { Logger } from '@callsync/logger';
import { Limiter, TimeoutError, withTimeout } from '@callsync/runtime';
import { resolveCallContext } from '../context/call-context';
import type { SecretKeyring } from '../privacy/secret-key';
import { stableJson } from '../events/delivery-identity';
import type { RetellCall } from '../events/call';
import type { FunctionRegistry } from './function';

/** Retell reads at most this much of an answer. */
export const MAX_RESULT_CHARS = 15_000;
/** A retry of the same call, name and args within this long gets the recorded answer. */
export const RETRY_WINDOW_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 8_000;
const DEFAULT_CONCURRENCY = 16;

export interface FunctionRequest {
  name: string;
  args: unknown;
  /** The live call object Retell sends with the request (absent in "args only" mode and over GET/DELETE). */
  call?: RetellCall;
  receivedAt: Date;
}

export interface FunctionAnswer {
  /** 200 with what the agent reads; 404 unknown function; 5xx so Retell retries. */
  status: number;
  body: string | Record<string, unknown>;
  outcome: FunctionCallStatus | 'replayed' | 'busy' | 'unknown';
}

const truncate = (s: string) => (s.length > MAX_RESULT_CHARS ? s.slice(0, MAX_RESULT_CHARS) : s);

/**
 * Runs custom functions: checks args, resolves the call's context, runs the handler within its
 * timeout and concurrency, and records every invocation in function_calls. A retry of an invocation
 * that succeeded (same call, name and args, within RETRY_WINDOW_MS) is answered from the record, so
 * side effects run once; one that arrives while the first still runs waits for it.
 */
export class FunctionInvoker {
  private readonly limiters = new Map<string, Limiter>();

  constructor(
    private readonly db: Db,
    /** Hashes the caller for the context's history (SecretKeyring). */
    private readonly keys: SecretKeyring,
    private readonly registry: FunctionRegistry,
    private readonly logger: Logger,
  ) {}

  async invoke(req: FunctionRequest): Promise<FunctionAnswer> {
    const fn = this.registry.get(req.name);
    if (!fn) return { status: 404, body: { error: `no function named ${req.name}` }, outcome: 'unknown' };
    const callId = req.call?.call_id ?? null;
    const argsJson = stableJson(req.args ?? {});
    const key = `${callId ?? '-'}:${fn.name}:${createHash('sha256').update(argsJson).digest('hex').slice(0, 32)}`;
    const log = { function: fn.name, call_id: callId };
    const timeoutMs = fn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;

    const parsed = fn.args.safeParse(req.args ?? {});
    for (;;) {
      const { recent, startedId: id } = await claimInvocation(this.db, {
        callId,
        name: fn.name,
        argsJson,
        key,
        windowMs: RETRY_WINDOW_MS,
      });
      if (id === undefined && recent && (recent.status === 'ok' || recent.status === 'bad_args')) {
        await countReplay(this.db, recent.id);
        this.logger.info('function retry answered from its record', { ...log, function_call_id: recent.id });
        return { status: 200, body: recent.result ?? '', outcome: 'replayed' };
      }
      if (
        id === undefined &&
        recent?.status === 'running' &&
        Date.now() - new Date(recent.created_at).getTime() > 2 * timeoutMs
      ) {
        // Its process stopped mid-run (a crash, a deploy): the row would block every retry.
        await finishInvocation(this.db, recent.id, {
          status: 'error',
          error: 'abandoned: the process running it stopped',
          durationMs: Date.now() - new Date(recent.created_at).getTime(),
        });
        continue;
      }
      if (id === undefined) {
        // Running elsewhere (or started a moment ago): wait for its answer.
        if (Date.now() > deadline)
          return { status: 503, body: { error: `${fn.name} is still running` }, outcome: 'busy' };
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const started = performance.now();
      if (!parsed.success) {
        const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'args'} ${i.message}`).join('; ');
        const text = `I could not run ${fn.name}: ${problem}.`;
        this.logger.warn('function called with bad args', { ...log, problem });
        await finishInvocation(this.db, id, {
          status: 'bad_args',
          result: text,
          durationMs: performance.now() - started,
        });
        return { status: 200, body: text, outcome: 'bad_args' };
      }
      return this.run(id, fn.name, parsed.data, req, timeoutMs, started, log);
    }
  }

  private async run(
    id: string,
    name: string,
    args: unknown,
    req: FunctionRequest,
    timeoutMs: number,
    started: number,
    log: Record<string, unknown>,
  ): Promise<FunctionAnswer> {
    const fn = this.registry.get(name)!;
    let limiter = this.limiters.get(name);
    if (!limiter) this.limiters.set(name, (limiter = new Limiter(fn.concurrency ?? DEFAULT_CONCURRENCY)));
    const limit = fn.concurrency ?? DEFAULT_CONCURRENCY;
    const finish = (status: Exclude<FunctionCallStatus, 'running'>, result: string | null, error?: string) =>
      finishInvocation(this.db, id, { status, result, error, durationMs: performance.now() - started });
    if (limiter.load >= 2 * limit) {
      await finish('error', null, `more than ${2 * limit} ${name} calls at once`);
      return { status: 503, body: { error: `${name} is busy; retry` }, outcome: 'busy' };
    }
    const abort = new AbortController();
    try {
      const body = await withTimeout(
        limiter.run(async () => {
          const call = req.call
            ? await resolveCallContext(this.db, this.keys, req.call.call_id, { call: req.call, at: req.receivedAt })
            : null;
          return fn.handle({ call, db: this.db, logger: this.logger, signal: abort.signal }, args);
        }),
        timeoutMs,
        `${name} (timeout ${timeoutMs} ms)`,
      );
      const text = typeof body === 'string' ? truncate(body) : truncate(JSON.stringify(body));
      await finish('ok', text);
      return {
        status: 200,
        body: typeof body === 'string' || text.length < MAX_RESULT_CHARS ? body : text,
        outcome: 'ok',
      };
    } catch (err) {
      const timedOut = err instanceof TimeoutError;
      if (timedOut) abort.abort();
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error(timedOut ? 'function timed out' : 'function failed', { ...log, err: message });
      await finish(timedOut ? 'timeout' : 'error', null, message).catch(() => undefined);
      return {
        status: timedOut ? 504 : 500,
        body: { error: `${name} ${timedOut ? 'timed out' : 'failed'}` },
        outcome: timedOut ? 'timeout' : 'error',
      };
    }
  }
}
