import type { Db } from '@callsync/db';
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
  /** Aborted when the function's timeout passes: stop working, the answer is no longer awaited. */
  signal: AbortSignal;
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
  /** Below Retell's own timeout for the function (default 2 min). Default 8000 ms. */
  timeoutMs?: number;
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
    map.set(f.name, f);
  }
  return map;
}
