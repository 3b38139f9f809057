import type { Retell } from 'retell-sdk';

/*
 * Retell's shapes, typed. The objects (a call, a chat, a list item) are retell-sdk's own types: the
 * contract. What the SDK does not type (webhook envelopes, transfer events, the inbound webhook and
 * its answers, custom-function requests) is typed here from Retell's documentation, each with its
 * page. Fixtures, the fake Retell and `make demo` build their bodies with these types, so a shape
 * Retell does not have fails `tsc`. Types only: nothing here exists at run time.
 */

/** A call as get-call returns it and webhooks carry it (retell-sdk `CallResponse`). */
export type RetellCallObject = Retell.CallResponse;
export type RetellPhoneCall = Retell.PhoneCallResponse;
export type RetellWebCall = Retell.WebCallResponse;
/** A chat as get-chat returns it and chat webhooks carry it (retell-sdk `ChatResponse`). */
export type RetellChatObject = Retell.ChatResponse;
/** An item of v3 list-calls: no `transcript`, `transcript_object` or `transcript_with_tool_calls`. */
export type RetellCallListItem = Retell.CallListResponse['items'][number];
export type RetellChatListItem = Retell.ChatListResponse['items'][number];
export type RetellTranscriptEntry = NonNullable<Retell.PhoneCallResponse['transcript_with_tool_calls']>[number];

/**
 * Webhook bodies: `{"event", "call"}` for calls, `{"event", "chat"}` for chats
 * (docs.retellai.com/features/webhook-overview, "Webhook Payload").
 */
export interface CallWebhookBody {
  event: 'call_started' | 'call_ended' | 'call_analyzed';
  call: RetellCallObject;
}

export interface ChatWebhookBody {
  event: 'chat_started' | 'chat_ended' | 'chat_analyzed';
  chat: RetellChatObject;
}

/**
 * transcript_updated: "Full call data plus `transcript_with_tool_calls`" (webhook-overview). The docs
 * do not say whether that list sits in the call object or beside it, so both are allowed.
 */
export interface TranscriptUpdatedBody {
  event: 'transcript_updated';
  call: RetellCallObject;
  transcript_with_tool_calls?: RetellTranscriptEntry[];
}

/** A chat agent's transcript_updated (chat-agent `webhook_events` allows it): the chat, no call. */
export interface ChatTranscriptUpdatedBody {
  event: 'transcript_updated';
  chat: RetellChatObject;
}

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** An SDK type with its keys in camelCase, at every depth (distributes over unions). */
type CamelKeys<T> = T extends readonly (infer U)[]
  ? CamelKeys<U>[]
  : T extends object
    ? { [K in keyof T as K extends string ? Camel<K> : K]: CamelKeys<T[K]> }
    : T;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type SdkTransferOption = Retell.LlmResponse.TransferCallTool['transfer_option'];

/**
 * `transfer_option` of a transfer event: the transfer tool's option as the SDK types it, with the
 * camelCase keys Retell's webhook sends (`showTransfereeAsCaller`, `agentDetectionTimeoutMs`, ...);
 * `onHoldMusic` arrives as an object in the docs' sample (`{"type": "default"}`).
 */
export type TransferOptionSent = DistributiveOmit<CamelKeys<SdkTransferOption>, 'onHoldMusic'> & {
  onHoldMusic?: string | { type: string };
};

/** `transfer_destination` of a transfer event: "fields may vary by transfer type". */
export interface TransferDestinationSent {
  number?: string;
  extension?: string;
}

/**
 * transfer_started / _bridged / _cancelled / _ended (webhook-overview, "Sample Transfer event
 * payload"): the call, and beside it (top level) the destination and the option; transfer_ended
 * carries the call only.
 */
export interface TransferWebhookBody {
  event: 'transfer_started' | 'transfer_bridged' | 'transfer_cancelled' | 'transfer_ended';
  call: RetellCallObject;
  transfer_destination?: TransferDestinationSent;
  transfer_option?: TransferOptionSent;
}

export type RetellWebhookBody =
  CallWebhookBody | ChatWebhookBody | TranscriptUpdatedBody | ChatTranscriptUpdatedBody | TransferWebhookBody;

/** Who is calling or texting whom (docs.retellai.com/features/inbound-call-webhook). */
export interface InboundParty {
  /** The number's inbound agent, when it has one. */
  agent_id?: string;
  agent_version?: number;
  from_number: string;
  to_number: string;
  /** retell-sdk 5.66.1: "for deduplication across HTTP retries". */
  call_id?: string;
  custom_sip_headers?: Record<string, string>;
}

/** The inbound call webhook's request: the call rings until it is answered. */
export interface InboundCallRequest {
  event: 'call_inbound';
  event_timestamp?: number;
  call_inbound: InboundParty;
}

/** The inbound SMS webhook's request (`inbound_sms_webhook_url`). */
export interface InboundSmsRequest {
  event: 'chat_inbound';
  event_timestamp?: number;
  chat_inbound: Omit<InboundParty, 'call_id' | 'custom_sip_headers'> & { chat_id?: string };
}

export type InboundRequest = InboundCallRequest | InboundSmsRequest;

/** What an inbound answer may set: all optional; dynamic variables are strings. */
export interface InboundRouting {
  override_agent_id?: string;
  override_agent_version?: number;
  dynamic_variables?: Record<string, string>;
  metadata?: Record<string, unknown>;
  agent_override?: {
    agent?: Partial<Retell.AgentUpdateParams>;
    retell_llm?: Partial<Retell.LlmUpdateParams>;
  };
}

/**
 * Rejecting: only `{"reject": true}` (boolean true) rejects, even when the number has an inbound
 * agent; Retell recommends sending nothing else, since an invalid other field voids the whole answer.
 */
export interface InboundRejection {
  reject: true;
}

export type InboundAnswerBody =
  { call_inbound: InboundRouting | InboundRejection } | { chat_inbound: InboundRouting | InboundRejection };

/**
 * A custom function's request for POST, PUT and PATCH (docs.retellai.com/build/conversation-flow/
 * custom-function, "Example request body"): the function's name, its args, and the live call.
 */
export interface FunctionRequestBody {
  name: string;
  args: Record<string, unknown>;
  call: RetellCallObject;
}

/** Retell's documentation samples are compact: every field optional, but no field Retell does not have. */
export type Documented<T> = T extends readonly (infer U)[]
  ? Documented<U>[]
  : T extends object
    ? { [K in keyof T]?: Documented<T[K]> }
    : T;

/**
 * A field the webhook docs' sample still carries that retell-sdk 5.66.1 no longer has
 * (RETELL.md: "the docs' sample still has legacy fields").
 */
export interface LegacyCallFields {
  opt_out_sensitive_data_storage?: boolean;
}
