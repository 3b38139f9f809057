import { type Db } from '@callsync/db';
import {
  claimInvocation,
  countReplay,
  finishInvocation,
  markPendingAnswered,
  type FunctionCallStatus,
} from '@callsync/db/live';
import type { Logger } from '@callsync/logger';
import { TimeoutError } from '@callsync/runtime';
import { contextClaimFor, resolveCallContext, type ContextSources, type StoredContext } from '../context/call-context';
import type { SecretKeyring } from '../privacy/secret-key';
import { stableJson } from '../events/delivery-identity';
import type { CallsyncFunction, FunctionRegistry } from './function';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  invocationKey,
  MAX_RESULT_CHARS,
  RETRY_WINDOW_MS,
  sleep,
  truncate,
  within,
  type FunctionAnswer,
  type FunctionEvents,
  type FunctionRequest,
} from './invocation';
import { collectPendingResults, deliverPending } from './pending-results';
import { ResultRecords } from './result-records';
import { Slots } from './slots';
import { toolCallIdOf } from './tool-call-id';

export { invocationKey, MAX_RESULT_CHARS, RETRY_WINDOW_MS } from './invocation';
export type { FunctionAnswer, FunctionEvents, FunctionRequest } from './invocation';

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
  /** Records written after their answers, and handlers finishing after a pending message. */
  private readonly records: ResultRecords;
  /** Where what no answer waits on is written (results, replay counts, marks). */
  private readonly recordsDb: Db;

  constructor(
    private readonly db: Db,
    /** Hashes the caller for the context's history (SecretKeyring). */
    private readonly keys: SecretKeyring,
    private readonly registry: FunctionRegistry,
    private readonly logger: Logger,
    private readonly events: FunctionEvents = {},
    /**
     * `sources`: call contexts prefetched at call_inbound or call_started (context/prefetch.ts).
     * `recordsDb`: the pool results are written through after their answers (default `db`): one of
     * their own keeps a caller's claim from queueing behind them.
     */
    private readonly contextOptions: { sources?: ContextSources; recordsDb?: Db } = {},
  ) {
    this.recordsDb = contextOptions.recordsDb ?? db;
    this.records = new ResultRecords(this.recordsDb, logger);
  }

  /** Until every handler this invoker started has ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
    await this.records.settled();
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
      const delivered = await deliverPending(this.db, this.running, this.logger, fn, { callId, argsJson, answerBy });
      if (delivered === 'running') return pending();
      if (delivered) return delivered;
    }

    const parsed = fn.args.safeParse(req.args ?? {});
    // The call's context is read by the claim itself (nothing to read when it was prefetched).
    const contextQuery =
      req.call && parsed.success
        ? await contextClaimFor(this.db, this.keys, req.call, this.contextOptions.sources)
        : undefined;
    for (;;) {
      const {
        recent,
        startedId: id,
        context,
      } = await claimInvocation(this.db, {
        callId,
        name: fn.name,
        argsJson,
        key,
        windowMs: RETRY_WINDOW_MS,
        toolCallId,
        timeoutIsFinal: toolCallId !== undefined,
        context: contextQuery,
      });
      if (id === undefined && recent && (recent.status === 'ok' || recent.status === 'bad_args')) {
        this.countReplay(recent.id, log);
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
        const kept = recent ? this.records.answered(recent.id) : undefined;
        if (kept) {
          this.countReplay(recent!.id, log);
          return { ...kept, outcome: 'replayed' };
        }
        const local = recent ? this.running.get(recent.id) : undefined;
        if (local) {
          if (Date.now() > deadline)
            return { status: 503, body: { error: `${fn.name} is still running` }, outcome: 'busy' };
          const answer = await within(local, answerBy - Date.now());
          if (answer?.outcome === 'ok') {
            this.countReplay(recent!.id, log);
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
        const answer: FunctionAnswer = { status: 200, body: text, outcome: 'bad_args' };
        this.records.afterAnswer(answer, { id, status: 'bad_args', result: text, durationMs: Date.now() - arrived });
        return answer;
      }
      const stored = context && { ...context, factsQuery: contextQuery?.facts };
      return this.run(id, fn, parsed.data, req, { arrived, deadline, answerBy, log, stored });
    }
  }

  /** A retry answered from the record or memory: counted after the answer. */
  private countReplay(id: string, log: Record<string, unknown>): void {
    this.records.later('function replay not counted', () => countReplay(this.recordsDb, id), log);
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
    t: {
      arrived: number;
      deadline: number;
      answerBy: number;
      log: Record<string, unknown>;
      /** What the claim read for the call's context. */
      stored?: StoredContext;
    },
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
                stored: t.stored,
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
                collectPendingResults(this.db, this.running, {
                  callId: req.call?.call_id ?? null,
                  name: only,
                  answerBy: t.answerBy - Math.min(250, (t.answerBy - t.arrived) / 4),
                }),
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
        // Recorded after the answer (result-records.ts says why that is safe). The side effect happened:
        // the answer stands even if Postgres cannot take the record; a 5xx would make Retell run it again.
        this.records.afterAnswer(answer, { id, status: 'ok', result: text, durationMs: Date.now() - t.arrived });
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
    this.records.later('pending message given but not recorded', () => markPendingAnswered(this.recordsDb, id), t.log);
    this.records.track(work);
    this.logger.info('function over its budget: pending message answered, finishing in the background', t.log);
    return { status: 200, body: fn.pendingMessage, outcome: 'pending' };
  }
}
