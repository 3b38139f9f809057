import { z } from 'zod';
import { PermanentEventError } from '../errors';
import { describeIssues } from './call';
import { transcriptText } from './delivery-identity';

const epochMs = z.number().finite().nonnegative();
const text = z.string().nullish();
const jsonObject = z.record(z.string(), z.unknown()).nullish();

/** Retell's chat object (chat agents: api_chat, sms_chat). Lenient: unknown fields are kept. */
export const retellChatSchema = z.looseObject({
  chat_id: z.string().min(1),
  agent_id: text,
  version: z.coerce.number().int().nullish(),
  chat_status: text,
  chat_type: text,
  start_timestamp: epochMs.nullish(),
  end_timestamp: epochMs.nullish(),
  transcript: text,
  chat_analysis: jsonObject,
  chat_cost: z.looseObject({ combined_cost: z.number().nullish() }).nullish(),
  metadata: z.unknown().optional(),
  retell_llm_dynamic_variables: jsonObject,
  collected_dynamic_variables: jsonObject,
});

export type RetellChat = z.infer<typeof retellChatSchema>;

/** Parse `payload.chat`; a malformed field is permanent and is named. */
export function parseChat(payload: unknown): RetellChat {
  const r = retellChatSchema.safeParse((payload as { chat?: unknown } | null)?.chat);
  if (!r.success) throw new PermanentEventError(`invalid chat object: ${describeIssues('chat', r.error)}`);
  // A live snapshot may carry the conversation only as message_with_tool_calls.
  if (r.data.transcript == null) r.data.transcript = transcriptText(r.data);
  return r.data;
}
