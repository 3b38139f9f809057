import type { Db } from '@callsync/db';
import type { PendingResult } from '@callsync/db/live';
import type { Logger } from '@callsync/logger';
import type { z } from 'zod';
import type { CallContext } from '../context/call-context';

/** What a function's handler gets besides its args. */
export interface FunctionContext {
  /**
   * The live call's context (company, agent, caller and history); null in "args only" mode and for
   * a GET or DELETE, whose request carries no call object.
   */
  call: CallContext | null;
  db: Db;
  logger: Logger;
  /**
   * Aborted at the function's hard timeout (`timeoutMs`): stop working, the answer is no longer
   * awaited, and the function's slot has been given to the next request.
   */
  signal: AbortSignal;
  /**
   * The call's results that finished after their pending message and were not handed over yet (each is
   * handed over once), waiting up to the asking function's budget for ones still running; `name`
   * narrows to one function. What the built-in get_pending_result reads. Always set by callsync;
   * optional so that a team's tests can build a context without it.
   */
  pendingResults?(name?: string): Promise<{ taken: PendingResult[]; running: string[] }>;
}

/**
 * A custom function Retell's agent can call during a call (/api/retell/functions/:name, with any
 * method Retell allows: GET, POST, PUT, PATCH or DELETE).
 * `handle` returns what the agent reads: short text, or JSON.
 */
export interface CallsyncFunction<A = unknown> {
  name: string;
  description: string;
  /**
   * Checked before `handle` runs; a mismatch is answered with a sentence the agent can say. Over GET
   * or DELETE the args are the query string, so every value is a string (an array if repeated): use
   * `z.coerce` for numbers there.
   */
  args: z.ZodType<A>;
  /**
   * The hard timeout: the handler's AbortSignal fires, its slot is freed and the request (if still
   * waiting) gets 504. Exported as the tool's `timeout_ms` (at least Retell's minimum of 1000 ms).
   * Default 8000 ms.
   */
  timeoutMs?: number;
  /**
   * The turn budget: if the handler has not answered within this long, the agent gets
   * `pendingMessage` at once and the handler finishes in the background, its result recorded for the
   * function's next call in the same call (same args) or the built-in get_pending_result. Without a
   * `pendingMessage` the request waits up to `timeoutMs`. Default: no budget.
   */
  budgetMs?: number;
  /** What the agent reads when the budget passes, e.g. "Ich schaue noch nach, einen Moment." */
  pendingMessage?: string;
  /**
   * What the agent says while the function runs (the tool's `execution_message_description`, with
   * `speak_during_execution` on). Default: nothing said.
   */
  executionMessage?: string;
  /** The HTTP method Retell is told to use (the tool's `method`). Default POST. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Runs at once; more wait, and beyond twice this many the request is answered 503. Default 16. */
  concurrency?: number;
  handle(ctx: FunctionContext, args: A): Promise<string | Record<string, unknown>>;
}

/** Typed helper: `defineFunction({ name, args: z.object(...), handle(ctx, args) { ... } })`. */
export function defineFunction<A>(definition: CallsyncFunction<A>): CallsyncFunction<A> {
  return definition;
}

export type FunctionRegistry = ReadonlyMap<string, CallsyncFunction<unknown>>;

/** A registry from a list; names must be unique and URL-safe. */
export function functionRegistry(functions: readonly CallsyncFunction<unknown>[]): FunctionRegistry {
  const map = new Map<string, CallsyncFunction<unknown>>();
  for (const f of functions) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(f.name))
      throw new Error(`function name "${f.name}" must be letters, digits, _ or -`);
    if (map.has(f.name)) throw new Error(`function "${f.name}" is registered twice`);
    if (f.budgetMs !== undefined && !f.pendingMessage)
      throw new Error(`function "${f.name}" has a budgetMs but no pendingMessage for the agent to say`);
    map.set(f.name, f);
  }
  return map;
}
