import { stableJson } from '../events/delivery-identity';
import type { RetellCall } from '../events/call';

/*
 * Retell's id of one tool invocation. The live call a function request carries ends its
 * `transcript_with_tool_calls` with the invocation this request answers (retell-sdk 5.66.1:
 * `ToolCallInvocationUtterance {role: 'tool_call_invocation', tool_call_id, name, arguments}`, the
 * arguments a JSON string; "Tool call id, globally unique"). Retell's retries of the invocation carry
 * the same id; a new invocation with the same args carries a new one.
 */

interface Invocation {
  role: 'tool_call_invocation';
  tool_call_id: string;
  name?: string;
  arguments?: string;
}

const isInvocation = (e: unknown): e is Invocation =>
  e !== null &&
  typeof e === 'object' &&
  (e as { role?: unknown }).role === 'tool_call_invocation' &&
  typeof (e as { tool_call_id?: unknown }).tool_call_id === 'string' &&
  (e as { tool_call_id: string }).tool_call_id.length > 0;

function sameArgs(entry: Invocation, argsJson: string): boolean {
  if (typeof entry.arguments !== 'string') return true;
  try {
    return stableJson(JSON.parse(entry.arguments)) === argsJson;
  } catch {
    // Arguments Retell sent as something other than JSON: the name alone identifies it.
    return true;
  }
}

/**
 * The `tool_call_id` of this request's invocation: the newest `tool_call_invocation` of the call
 * for this function whose arguments are the request's (parallel calls of one function differ by
 * args). Undefined when the call carries none (an older shape, a test), or none matches.
 */
export function toolCallIdOf(call: RetellCall | undefined, name: string, argsJson: string): string | undefined {
  const entries = (call as { transcript_with_tool_calls?: unknown } | undefined)?.transcript_with_tool_calls;
  if (!Array.isArray(entries)) return undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e: unknown = entries[i];
    if (!isInvocation(e)) continue;
    if (e.name !== undefined && e.name !== name) continue;
    if (sameArgs(e, argsJson)) return e.tool_call_id.slice(0, 200);
  }
  return undefined;
}
