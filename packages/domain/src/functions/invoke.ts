import { createHash, randomUUID } from 'node:crypto';
import {
  claimInvocation,
  countReplay,
  finishInvocation,
  markPendingAnswered,
  takePendingResults,
  type Db,
  type FunctionCallStatus,
  type PendingResult,
} from '@callsync/db';
import type { Logger } from '@callsync/logger';
import { TimeoutError } from '@callsync/runtime';
import { resolveCallContext, type ContextSources } from '../context/call-context';
import type { SecretKeyring } from '../privacy/secret-key';
import { stableJson } from '../events/delivery-identity';
import type { RetellCall } from '../events/call';
import type { CallsyncFunction, FunctionRegistry } from './function';
import { Slots } from './slots';
import { toolCallIdOf } from './tool-call-id';

/** Retell reads at most this much of an answer. */
export const MAX_RESULT_CHARS = 15_000;
/** A retry of the same invocation within this long gets the recorded answer. */
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
  /** `pending`: the budget passed, the agent got the pending message, the handler goes on. */
  outcome: FunctionCallStatus | 'replayed' | 'busy' | 'unknown' | 'pending' | 'delivered';
}

/** What the invoker reports besides its answers (metrics subscribe; the domain knows no Prometheus). */
export interface FunctionEvents {
  /** A handler still ran at its hard timeout: aborted, its slot freed. */
  abandoned?(name: string): void;
}

const truncate = (s: string) => (s.length > MAX_RESULT_CHARS ? s.slice(0, MAX_RESULT_CHARS) : s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`'s value, or `undefined` once `ms` passed (the promise goes on). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The record key of an invocation. Retell's own `tool_call_id` when the request carries one: its
 * retries share it, a new invocation with the same args does not. A call without one falls back to
 * call, name and args. "Args only" requests (no call object) are never shared: nothing tells a retry
 * from another call's request with the same args.
 */
export function invocationKey(callId: string | null, name: string, argsJson: string, toolCallId?: string): string {
  if (toolCallId) return `${callId ?? '-'}:${name}:tc:${toolCallId}`;
  if (!callId) return `-:${name}:once:${randomUUID()}`;
  return `${callId}:${name}:${createHash('sha256').update(argsJson).digest('hex').slice(0, 32)}`;
}

/**
 * Runs custom functions: checks args, resolves the call's context, runs the handler within its
 * budget, hard timeout and concurrency, and records every invocation in function_calls.
 *   - A retry of an invocation (Retell's tool_call_id) that answered is answered from the record, so
 *     side effects run once; one that arrives while the first still runs waits for it.
 *   - Past the function's `budgetMs` the agent gets its `pendingMessage`; the handler finishes in the
 *     background and its result waits for the function's next call in the call, or get_pending_result.
 *   - At `timeoutMs` the handler's signal aborts and its slot is freed, whether or not it stops.
 */
export class FunctionInvoker {
  private readonly slots = new Map<string, Slots>();
  /** Runs in this process by function_calls id: retries and the next call wait on these, not on polls. */
  private readonly running = new Map<string, Promise<FunctionAnswer>>();
  /** Background work (results after a pending message, records): `settled()` waits for it. */
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Db,
    /** Hashes the caller for the context's history (SecretKeyring). */
    private readonly keys: SecretKeyring,
    private readonly registry: FunctionRegistry,
    private readonly logger: Logger,
    private readonly events: FunctionEvents = {},
    /** Call contexts prefetched at call_inbound or call_started (context/prefetch.ts). */
    private readonly contextOptions: { sources?: ContextSources } = {},
  ) {}

  /** Answers whose record Postgres did not take yet, by function_calls id (bounded; see recordLater). */
  private readonly unrecorded = new Map<string, FunctionAnswer>();

  private remember(id: string, answer: FunctionAnswer): void {
    if (this.unrecorded.size >= 10_000) this.unrecorded.delete(this.unrecorded.keys().next().value!);
    this.unrecorded.set(id, answer);
  }

  /** Write a result Postgres refused, a few times over about a minute; kept in memory until then. */
  private async recordLater(id: string, write: () => Promise<unknown>): Promise<void> {
    for (const waitMs of [500, 2000, 5000, 15_000, 40_000]) {
      await sleep(waitMs);
      try {
        await write();
        this.unrecorded.delete(id);
        return;
      } catch {
        // Still unreachable: try again later; the answer stays in memory for retries meanwhile.
      }
    }
    this.logger.error('function result never recorded; a retry in another process may run it again', {
      function_call_id: id,
    });
    this.unrecorded.delete(id);
  }

  /** Until every handler this invoker started has ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.background.size || this.running.size)
      await Promise.allSettled([...this.background, ...this.running.values()]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.background.add(p);
    void p.finally(() => this.background.delete(p)).catch(() => undefined);
    return p;
  }

  async invoke(req: FunctionRequest): Promise<FunctionAnswer> {
    const fn = this.registry.get(req.name);
    if (!fn) return { status: 404, body: { error: `no function named ${req.name}` }, outcome: 'unknown' };
    const callId = req.call?.call_id ?? null;
    const argsJson = stableJson(req.args ?? {});
    const toolCallId = toolCallIdOf(req.call, fn.name, argsJson);
    const key = invocationKey(callId, fn.name, argsJson, toolCallId);
    const log = { function: fn.name, call_id: callId, tool_call_id: toolCallId };
    const timeoutMs = fn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const arrived = Date.now();
    const deadline = arrived + timeoutMs;
    const answerBy = fn.pendingMessage && fn.budgetMs !== undefined ? arrived + fn.budgetMs : deadline;
    const pending = (): FunctionAnswer => ({ status: 200, body: fn.pendingMessage!, outcome: 'pending' });

    // The result a pending message promised: the function's next call in this call (same args) gets it.
    if (callId && fn.pendingMessage) {
      const delivered = await this.deliverPending(fn, callId, argsJson, answerBy);
      if (delivered === 'running') return pending();
      if (delivered) return delivered;
    }

    const parsed = fn.args.safeParse(req.args ?? {});
    for (;;) {
      const { recent, startedId: id } = await claimInvocation(this.db, {
        callId,
        name: fn.name,
        argsJson,
        key,
        windowMs: RETRY_WINDOW_MS,
        toolCallId,
        timeoutIsFinal: toolCallId !== undefined,
      });
      if (id === undefined && recent && (recent.status === 'ok' || recent.status === 'bad_args')) {
        await countReplay(this.db, recent.id);
        this.logger.info('function retry answered from its record', { ...log, function_call_id: recent.id });
        return { status: 200, body: recent.result ?? '', outcome: 'replayed' };
      }
      if (id === undefined && recent?.status === 'timeout') {
        // Retell retrying an invocation that ran out of time: its handler may have done the work
        // before it was abandoned, so it is not run again; the agent's next invocation runs afresh.
        return { status: 504, body: { error: `${fn.name} timed out; not run again` }, outcome: 'replayed' };
      }
      if (id === undefined) {
        // The same invocation runs already: here (wait on it), or in another process (poll its record).
        const kept = recent ? this.unrecorded.get(recent.id) : undefined;
        if (kept) return { ...kept, outcome: 'replayed' };
        const local = recent ? this.running.get(recent.id) : undefined;
        if (local) {
          if (Date.now() > deadline)
            return { status: 503, body: { error: `${fn.name} is still running` }, outcome: 'busy' };
          const answer = await within(local, answerBy - Date.now());
          if (answer?.outcome === 'ok') {
            await countReplay(this.db, recent!.id);
            return { ...answer, outcome: 'replayed' };
          }
          if (answer) return answer;
          if (fn.pendingMessage) return pending();
          continue;
        }
        if (recent?.status === 'running' && Date.now() - new Date(recent.created_at).getTime() > 2 * timeoutMs) {
          // Not running here, and long past its timeout: its process stopped mid-run (a crash, a
          // deploy), and the row would block every retry.
          await finishInvocation(this.db, recent.id, {
            status: 'error',
            error: 'abandoned: the process running it stopped',
            durationMs: Date.now() - new Date(recent.created_at).getTime(),
          });
          continue;
        }
        if (fn.pendingMessage && Date.now() >= answerBy) return pending();
        if (Date.now() > deadline)
          return { status: 503, body: { error: `${fn.name} is still running` }, outcome: 'busy' };
        await sleep(25);
        continue;
      }
      if (!parsed.success) {
        const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'args'} ${i.message}`).join('; ');
        const text = `I could not run ${fn.name}: ${problem}.`;
        this.logger.warn('function called with bad args', { ...log, problem });
        await finishInvocation(this.db, id, { status: 'bad_args', result: text, durationMs: Date.now() - arrived });
        return { status: 200, body: text, outcome: 'bad_args' };
      }
      return this.run(id, fn, parsed.data, req, { arrived, deadline, answerBy, log });
    }
  }

  /**
   * Hand over a result a pending message promised (marked delivered: once). 'running' when it is
   * still running past `answerBy`; undefined when there is none (or it failed: then the call runs
   * afresh).
   */
  private async deliverPending(
    fn: CallsyncFunction<unknown>,
    callId: string,
    argsJson: string,
    answerBy: number,
  ): Promise<FunctionAnswer | 'running' | undefined> {
    for (;;) {
      const { taken, running } = await takePendingResults(this.db, { callId, name: fn.name, argsJson });
      const ok = taken.filter((t) => t.status === 'ok' || t.status === 'bad_args').pop();
      if (ok) {
        this.logger.info('function answered with the result its pending message promised', {
          function: fn.name,
          call_id: callId,
          function_call_id: ok.id,
        });
        return { status: 200, body: ok.result ?? '', outcome: 'delivered' };
      }
      // A row still running long past its timeout belongs to a process that stopped: nothing to wait for.
      const alive = running.filter(
        (r) =>
          this.running.has(r.id) ||
          Date.now() - new Date(r.created_at).getTime() <= 2 * (fn.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      );
      if (!alive.length) return undefined;
      const local = alive.map((r) => this.running.get(r.id)).filter((p) => p !== undefined);
      const left = answerBy - Date.now();
      if (left <= 0) return 'running';
      if (local.length) await within(Promise.race(local), left);
      else await sleep(Math.min(25, left));
    }
  }

  /** The call's pending results for get_pending_result, waiting up to `answerBy` for running ones. */
  private async pendingResults(
    callId: string | null,
    name: string | undefined,
    answerBy: number,
  ): Promise<{ taken: PendingResult[]; running: string[] }> {
    if (!callId) return { taken: [], running: [] };
    const taken: PendingResult[] = [];
    for (;;) {
      const now = await takePendingResults(this.db, { callId, name });
      taken.push(...now.taken);
      const left = answerBy - Date.now();
      if (!now.running.length || left <= 0) return { taken, running: now.running.map((r) => r.name) };
      const local = now.running.map((r) => this.running.get(r.id)).filter((p) => p !== undefined);
      if (local.length) await within(Promise.race(local), left);
      else await sleep(Math.min(25, left));
    }
  }

  private slotsOf(fn: CallsyncFunction<unknown>): Slots {
    let slots = this.slots.get(fn.name);
    if (!slots) this.slots.set(fn.name, (slots = new Slots(fn.concurrency ?? DEFAULT_CONCURRENCY)));
    return slots;
  }

  private async run(
    id: string,
    fn: CallsyncFunction<unknown>,
    args: unknown,
    req: FunctionRequest,
    t: { arrived: number; deadline: number; answerBy: number; log: Record<string, unknown> },
  ): Promise<FunctionAnswer> {
    const name = fn.name;
    const limit = fn.concurrency ?? DEFAULT_CONCURRENCY;
    const slots = this.slotsOf(fn);
    const finish = (
      status: Exclude<FunctionCallStatus, 'running'>,
      result: string | null,
      error?: string,
      abandoned?: boolean,
    ) => finishInvocation(this.db, id, { status, result, error, abandoned, durationMs: Date.now() - t.arrived });
    if (slots.load >= 2 * limit) {
      await finish('error', null, `more than ${2 * limit} ${name} calls at once`);
      return { status: 503, body: { error: `${name} is busy; retry` }, outcome: 'busy' };
    }
    const abort = new AbortController();
    const work = (async (): Promise<FunctionAnswer> => {
      let timer: NodeJS.Timeout | undefined;
      let release: (() => void) | undefined;
      try {
        const hardTimeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TimeoutError(`${name} took longer than its timeout of ${t.deadline - t.arrived} ms`)),
            Math.max(0, t.deadline - Date.now()),
          );
        });
        const handler = (async () => {
          release = await slots.acquire();
          // The hard timeout passed while this waited for a slot: give it straight back.
          if (abort.signal.aborted) throw new TimeoutError(`${name} waited for a slot past its timeout`);
          const call = req.call
            ? await resolveCallContext(this.db, this.keys, req.call.call_id, {
                call: req.call,
                at: req.receivedAt,
                sources: this.contextOptions.sources,
              })
            : null;
          return fn.handle(
            {
              call,
              db: this.db,
              logger: this.logger,
              signal: abort.signal,
              // Back before the asking function's own budget passes, so its answer is the results.
              pendingResults: (only) =>
                this.pendingResults(
                  req.call?.call_id ?? null,
                  only,
                  t.answerBy - Math.min(250, (t.answerBy - t.arrived) / 4),
                ),
            },
            args,
          );
        })();
        let body: string | Record<string, unknown>;
        try {
          body = await Promise.race([handler, hardTimeout]);
        } catch (err) {
          if (err instanceof TimeoutError) {
            abort.abort(err);
            // The handler may ignore its signal: what it does after this is logged, never recorded.
            handler.then(
              () => this.logger.warn('abandoned function handler finished after its timeout', t.log),
              () => undefined,
            );
          }
          throw err;
        } finally {
          release?.();
        }
        const text = typeof body === 'string' ? truncate(body) : truncate(JSON.stringify(body));
        const answer: FunctionAnswer = {
          status: 200,
          body: typeof body === 'string' || text.length < MAX_RESULT_CHARS ? body : text,
          outcome: 'ok',
        };
        // The side effect happened: the answer stands even if Postgres cannot take the record now. A
        // 5xx here would make Retell run it again. Retries of it are answered from memory meanwhile.
        await finish('ok', text).catch((err: Error) => {
          this.remember(id, answer);
          this.logger.warn('function answered, its result not recorded yet; retrying the record', {
            ...t.log,
            err: err.message,
          });
          this.track(this.recordLater(id, () => finish('ok', text)));
        });
        return answer;
      } catch (err) {
        const timedOut = err instanceof TimeoutError;
        const message = err instanceof Error ? err.message : String(err);
        if (timedOut) this.events.abandoned?.(name);
        this.logger.error(
          timedOut ? 'function handler abandoned at its timeout; its slot is free' : 'function failed',
          {
            ...t.log,
            err: message,
          },
        );
        await finish(timedOut ? 'timeout' : 'error', null, message, timedOut).catch(() => undefined);
        return {
          status: timedOut ? 504 : 500,
          body: { error: `${name} ${timedOut ? 'timed out' : 'failed'}` },
          outcome: timedOut ? 'timeout' : 'error',
        };
      } finally {
        clearTimeout(timer);
      }
    })();
    this.running.set(id, work);
    void work.finally(() => this.running.delete(id));

    if (!fn.pendingMessage || fn.budgetMs === undefined) return work;
    const answer = await within(work, t.answerBy - Date.now());
    if (answer) return answer;
    // Past the budget: the agent says the pending message; the result waits for the next call. The
    // mark is not awaited (the answer is due now): the next call comes after the agent has spoken the
    // message, seconds later, and a retry of this invocation finds it by its key anyway.
    this.track(
      markPendingAnswered(this.db, id).catch((err: Error) =>
        this.logger.warn('pending message given but not recorded', { ...t.log, err: err.message }),
      ),
    );
    this.track(work);
    this.logger.info('function over its budget: pending message answered, finishing in the background', t.log);
    return { status: 200, body: fn.pendingMessage, outcome: 'pending' };
  }
}
