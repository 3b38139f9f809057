/*
 * The provider boundary: what the domain needs of a voice provider's API, in callsync's own terms.
 * Reconciliation, discovery, the audit and the tenant sync see only these types; a provider's
 * package implements them (Retell: packages/retell's RetellApiClient) and the apps wire it in.
 */

/** A call's statuses as callsync's call events carry them. */
export type CallStatus = 'registered' | 'not_connected' | 'ongoing' | 'ended' | 'error';

/**
 * A call as the provider's API reports it: the fields the domain reads. Every other field the
 * provider sent is kept, since the object is applied whole as the payload of the call's events.
 */
export interface ProviderCall {
  call_id: string;
  /** A CallStatus; kept open, so a status a provider adds reads as not finished. */
  call_status: string;
  agent_id?: string | null;
  start_timestamp?: number | null;
  end_timestamp?: number | null;
  call_analysis?: Record<string, unknown> | null;
}

/** A chat as the provider's API reports it (statuses `ongoing`, `ended`, `error`); kept whole too. */
export interface ProviderChat {
  chat_id: string;
  chat_status: string;
  agent_id?: string | null;
  start_timestamp?: number | null;
  end_timestamp?: number | null;
  chat_analysis?: Record<string, unknown> | null;
}

/** A lookup's answer: the subject, or the status with which the provider said it does not know it. */
export type CallLookupResult = { found: true; call: ProviderCall } | { found: false; status: number };
export type ChatLookupResult = { found: true; chat: ProviderChat } | { found: false; status: number };

/** What reconciliation, discovery and the audit ask the provider; the real client and tests' fakes provide it. */
export interface ProviderApi {
  getCall(callId: string): Promise<CallLookupResult>;
  /** Chats are reconciled too; a provider without it leaves them alone. */
  getChat?(chatId: string): Promise<ChatLookupResult>;
  /** Calls that started in [sinceMs, untilMs), oldest first: discovery of the ones callsync never heard of. */
  listCalls?(sinceMs: number, untilMs: number, onPage?: (items: ProviderCall[]) => void): Promise<ProviderCall[]>;
  listChats?(sinceMs: number, untilMs: number, onPage?: (items: ProviderChat[]) => void): Promise<ProviderChat[]>;
}

/** An agent as the tenant sync records it. */
export interface ProviderAgent {
  agent_id: string;
  name: string | null;
  version: number | null;
  type: 'voice' | 'chat' | null;
}

/** A phone number and the agents bound to it, the main inbound and outbound one named. */
export interface ProviderNumber {
  phone_number: string;
  nickname: string | null;
  inbound_agent_id: string | null;
  outbound_agent_id: string | null;
  /** Every agent bound to the number (inbound, outbound, SMS). */
  agent_ids: string[];
}

/** What the tenant sync asks the provider: every agent and every number, all pages. */
export interface TenantSource {
  listAgents(): Promise<ProviderAgent[]>;
  listNumbers(): Promise<ProviderNumber[]>;
}

/** A call's status that will not change any more. */
export function isCallFinished(status: string): status is 'ended' | 'error' | 'not_connected' {
  return status === 'ended' || status === 'error' || status === 'not_connected';
}

/** A chat's status that will not change any more. */
export function isChatFinished(status: string): status is 'ended' | 'error' {
  return status === 'ended' || status === 'error';
}
