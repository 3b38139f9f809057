import { z } from 'zod';
import { PermanentEventError } from '../errors';
import { transcriptText } from './delivery-identity';

const epochMs = z.number().finite().nonnegative();
const text = z.string().nullish();
const jsonObject = z.record(z.string(), z.unknown()).nullish();

/** The typed view of Retell's call object that the handlers use. Lenient: unknown fields are kept. */
export const retellCallSchema = z.looseObject({
  call_id: z.string().min(1),
  agent_id: text,
  agent_version: z.coerce.number().int().nullish(),
  call_type: text,
  call_status: text,
  direction: text,
  from_number: text,
  to_number: text,
  start_timestamp: epochMs.nullish(),
  end_timestamp: epochMs.nullish(),
  duration_ms: epochMs.nullish(),
  disconnection_reason: text,
  transcript: text,
  recording_url: text,
  call_analysis: jsonObject,
  call_cost: z.looseObject({ combined_cost: z.number().nullish() }).nullish(),
  metadata: z.unknown().optional(),
  telephony_identifier: jsonObject,
  retell_llm_dynamic_variables: jsonObject,
  collected_dynamic_variables: jsonObject,
  latency: jsonObject,
  llm_token_usage: jsonObject,
});

export type RetellCall = z.infer<typeof retellCallSchema>;

/** Issues as one message naming each field under `prefix`. */
export function describeIssues(prefix: string, error: z.ZodError): string {
  return error.issues.map((i) => `${prefix}.${i.path.map(String).join('.')}: ${i.message}`).join('; ');
}

/** Parse `payload.call` (or its deprecated name `data`); a malformed field is permanent (no retry fixes it) and is named. */
export function parseCall(payload: unknown): RetellCall {
  const body = payload as { call?: unknown; data?: unknown } | null;
  const r = retellCallSchema.safeParse(body?.call ?? body?.data);
  if (!r.success) throw new PermanentEventError(`invalid call object: ${describeIssues('call', r.error)}`);
  // A live snapshot may carry its transcript only as transcript_object or transcript_with_tool_calls.
  if (r.data.transcript == null) r.data.transcript = transcriptText(r.data, isObject(payload) ? payload : {});
  return r.data;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
