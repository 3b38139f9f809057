import { z } from 'zod';

/**
 * The fields of get-call's response that the domain reads (its ProviderCall), checked; every other
 * field is kept (the whole object is applied as the event payload). Retell's call_status values are
 * callsync's CallStatus.
 */
export const apiCallSchema = z.looseObject({
  call_id: z.string().min(1),
  call_status: z.string().min(1),
  agent_id: z.string().nullish(),
  start_timestamp: z.number().nullish(),
  end_timestamp: z.number().nullish(),
  duration_ms: z.number().nullish(),
  disconnection_reason: z.string().nullish(),
  call_analysis: z.record(z.string(), z.unknown()).nullish(),
});

export type ApiCall = z.infer<typeof apiCallSchema>;

export type GetCallResult = { found: true; call: ApiCall } | { found: false; status: number };

/** The fields of get-chat's response that the domain reads (its ProviderChat); every other field is kept. */
export const apiChatSchema = z.looseObject({
  chat_id: z.string().min(1),
  chat_status: z.string().min(1),
  agent_id: z.string().nullish(),
  start_timestamp: z.number().nullish(),
  end_timestamp: z.number().nullish(),
  chat_analysis: z.record(z.string(), z.unknown()).nullish(),
});

export type ApiChat = z.infer<typeof apiChatSchema>;

export type GetChatResult = { found: true; chat: ApiChat } | { found: false; status: number };
