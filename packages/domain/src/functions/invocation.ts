import { createHash, randomUUID } from 'node:crypto';
import type { FunctionCallStatus } from '@callsync/db/live';
import type { RetellCall } from '../events/call';

/*
 * What an invocation of a custom function is: its request, its answer, its record key, and the
 * timing helpers the invoker and its parts share.
 */

/** Retell reads at most this much of an answer. */
export const MAX_RESULT_CHARS = 15_000;
/** A retry of the same invocation within this long gets the recorded answer. */
export const RETRY_WINDOW_MS = 5 * 60_000;
export const DEFAULT_TIMEOUT_MS = 8_000;
export const DEFAULT_CONCURRENCY = 16;

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

/** Invocations running in this process by function_calls id: retries and the next call wait on these. */
export type RunningInvocations = ReadonlyMap<string, Promise<FunctionAnswer>>;

export const truncate = (s: string) => (s.length > MAX_RESULT_CHARS ? s.slice(0, MAX_RESULT_CHARS) : s);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`'s value, or `undefined` once `ms` passed (the promise goes on). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
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
