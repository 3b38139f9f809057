import type { Retell } from 'retell-sdk';
import { z } from 'zod';
import { stableJson, type CallsyncFunction } from '@callsync/domain';

/*
 * callsync's functions as Retell custom tools (retell-sdk 5.66.1's `LlmResponse.CustomTool`), and the
 * drift between them and what an LLM at Retell holds. The zod schema is the source of the tool's
 * JSON Schema (zod 4's own z.toJSONSchema), so Retell's copy cannot silently differ from the code.
 */

export type RetellCustomTool = Retell.LlmResponse.CustomTool;
type GeneralTool = NonNullable<Retell.LlmResponse['general_tools']>[number];

/** Retell's bounds for a tool's timeout_ms (retell-sdk: "minimum 1000 ms ... maximum 600,000 ms"). */
const RETELL_MIN_TIMEOUT_MS = 1000;
const RETELL_MAX_TIMEOUT_MS = 600_000;
/** callsync's default hard timeout (functions/invoke.ts). */
const DEFAULT_TIMEOUT_MS = 8000;
/**
 * Retell waits this much longer than the hard timeout, so callsync's own answer (the result, or a 504
 * that Retell may retry) always arrives before Retell gives up on the request.
 */
export const TIMEOUT_MARGIN_MS = 1000;

/** The args schema as Retell's `parameters`: a JSON Schema object without the `$schema` line. */
export function parametersOf(args: z.ZodType): RetellCustomTool['parameters'] {
  const schema = z.toJSONSchema(args, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete schema.$schema;
  if (schema.type !== 'object')
    throw new Error(`a function's args must be a zod object to be a Retell tool (got ${String(schema.type)})`);
  return { ...schema, type: 'object', properties: schema.properties ?? {} } as RetellCustomTool['parameters'];
}

/** One function as the custom tool Retell calls at `baseUrl`/api/retell/functions/<name>. */
export function retellTool(fn: CallsyncFunction<unknown>, baseUrl: string): RetellCustomTool {
  const timeout = (fn.timeoutMs ?? DEFAULT_TIMEOUT_MS) + TIMEOUT_MARGIN_MS;
  return {
    type: 'custom',
    name: fn.name,
    description: fn.description,
    url: `${baseUrl.replace(/\/+$/, '')}/api/retell/functions/${fn.name}`,
    method: fn.method ?? 'POST',
    parameters: parametersOf(fn.args as z.ZodType),
    timeout_ms: Math.min(RETELL_MAX_TIMEOUT_MS, Math.max(RETELL_MIN_TIMEOUT_MS, timeout)),
    speak_during_execution: Boolean(fn.executionMessage),
    ...(fn.executionMessage ? { execution_message_description: fn.executionMessage } : {}),
  };
}

/** Every registered function as a Retell custom tool, in registration order. */
export function retellTools(functions: Iterable<CallsyncFunction<unknown>>, baseUrl: string): RetellCustomTool[] {
  return [...functions].map((fn) => retellTool(fn, baseUrl));
}

/** One difference between the code and the LLM at Retell. */
export interface ToolDrift {
  tool: string;
  problem: string;
}

const isCustom = (t: GeneralTool): t is RetellCustomTool => t.type === 'custom';

/** The fields compared, with Retell's default for a field the LLM leaves out. */
const COMPARED: { field: keyof RetellCustomTool; label: string; fallback?: unknown }[] = [
  { field: 'url', label: 'URL' },
  { field: 'method', label: 'method', fallback: 'POST' },
  { field: 'parameters', label: 'parameters schema', fallback: { type: 'object', properties: {} } },
  { field: 'timeout_ms', label: 'timeout_ms', fallback: 120_000 },
  { field: 'description', label: 'description' },
  { field: 'speak_during_execution', label: 'speak_during_execution', fallback: false },
  { field: 'execution_message_description', label: 'execution_message_description' },
];

const shown = (v: unknown) => {
  const s = v === undefined ? 'unset' : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/**
 * Every drift between the tools the code defines (`wanted`) and the LLM's `general_tools`: a tool
 * missing at Retell, a field that differs, and a custom tool at Retell that points at `baseUrl`'s
 * functions but is not registered here. Other tools (end_call, transfer_call, ...) are not compared.
 */
export function toolDrift(
  wanted: readonly RetellCustomTool[],
  have: readonly GeneralTool[] | null | undefined,
  baseUrl: string,
): ToolDrift[] {
  const drift: ToolDrift[] = [];
  const present = new Map((have ?? []).filter(isCustom).map((t) => [t.name, t]));
  for (const tool of wanted) {
    const at = present.get(tool.name);
    if (!at) {
      drift.push({ tool: tool.name, problem: 'missing at Retell' });
      continue;
    }
    for (const { field, label, fallback } of COMPARED) {
      const want = tool[field] ?? fallback;
      const got = at[field] ?? fallback;
      if (stableJson(want) !== stableJson(got))
        drift.push({ tool: tool.name, problem: `${label} differs: Retell has ${shown(got)}, the code ${shown(want)}` });
    }
  }
  const ours = `${baseUrl.replace(/\/+$/, '')}/api/retell/functions/`;
  const names = new Set(wanted.map((t) => t.name));
  for (const t of present.values())
    if (!names.has(t.name) && t.url.startsWith(ours))
      drift.push({ tool: t.name, problem: 'at Retell, but no function of that name is registered here' });
  return drift;
}

/**
 * The LLM's general_tools with the code's tools in place: each replaces the custom tool of its name,
 * new ones are appended, tools pointing at `baseUrl`'s functions that are no longer registered are
 * removed, and every other tool stays as it is.
 */
export function mergedTools(
  wanted: readonly RetellCustomTool[],
  have: readonly GeneralTool[] | null | undefined,
  baseUrl: string,
): GeneralTool[] {
  const ours = `${baseUrl.replace(/\/+$/, '')}/api/retell/functions/`;
  const byName = new Map(wanted.map((t) => [t.name, t]));
  const kept: GeneralTool[] = [];
  for (const t of have ?? []) {
    if (!isCustom(t)) kept.push(t);
    else if (byName.has(t.name)) {
      kept.push(byName.get(t.name)!);
      byName.delete(t.name);
    } else if (!t.url.startsWith(ours)) kept.push(t);
  }
  return [...kept, ...byName.values()];
}
