import { z } from 'zod';

/** Retell's call_status values (its API reference); kept open in case Retell adds one. */
export type RetellCallStatus = 'registered' | 'not_connected' | 'ongoing' | 'ended' | 'error';

/**
 * The fields of get-call's response that reconciliation uses, checked; every other field is kept
 * (the whole object is applied as the event payload).
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

/** The fields of get-chat's response that reconciliation uses; every other field is kept. */
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

/** What reconciliation needs from Retell; the real client and tests' fakes both provide it. */
export interface CallLookup {
  getCall(callId: string): Promise<GetCallResult>;
  /** Chats are reconciled too; a lookup without it leaves them alone. */
  getChat?(chatId: string): Promise<GetChatResult>;
  /** Calls (and chats) that started in [sinceMs, untilMs): discovery of the ones callsync never heard of. */
  listCalls?(sinceMs: number, untilMs: number, onPage?: (items: ApiCall[]) => void): Promise<ApiCall[]>;
  listChats?(sinceMs: number, untilMs: number, onPage?: (items: ApiChat[]) => void): Promise<ApiChat[]>;
}

/** A chat's status that will not change any more. */
export function isChatFinished(status: string): status is 'ended' | 'error' {
  return status === 'ended' || status === 'error';
}

export function isFinished(status: string): status is 'ended' | 'error' | 'not_connected' {
  return status === 'ended' || status === 'error' || status === 'not_connected';
}
