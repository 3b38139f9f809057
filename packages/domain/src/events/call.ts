import { z } from 'zod';
import { PermanentEventError } from '../errors';

const epochMs = z.number().finite().nonnegative();
const text = z.string().nullish();

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
  call_analysis: z.record(z.string(), z.unknown()).nullish(),
  call_cost: z.looseObject({ combined_cost: z.number().nullish() }).nullish(),
  metadata: z.unknown().optional(),
});

export type RetellCall = z.infer<typeof retellCallSchema>;

/** Parse `payload.call`; a malformed field is permanent (no retry fixes it) and is named. */
export function parseCall(payload: unknown): RetellCall {
  const call = (payload as { call?: unknown } | null)?.call;
  const r = retellCallSchema.safeParse(call);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `call.${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new PermanentEventError(`invalid call object: ${detail}`);
  }
  return r.data;
}
