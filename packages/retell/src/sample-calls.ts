import type { ChatEvent, LifecycleEvent, TransferEvent } from '@callsync/domain';
import type {
  CallWebhookBody,
  ChatWebhookBody,
  RetellCallObject,
  RetellChatObject,
  RetellPhoneCall,
  RetellWebCall,
  TranscriptUpdatedBody,
  TransferDestinationSent,
  TransferOptionSent,
  TransferWebhookBody,
} from './shapes';
/**
 * Realistic Retell call objects and webhook bodies, for `make demo`, the tests and the fake
 * Retell API. Shapes follow Retell's webhook documentation: call_started carries basic info, call_ended the whole
 * call without analysis, call_analyzed the whole call with it.
 */

export type SampleEvent = LifecycleEvent;

type DisconnectionReason = NonNullable<RetellPhoneCall['disconnection_reason']>;

export interface SampleCallOptions {
  callId: string;
  agentId?: string;
  agentVersion?: number;
  /** The caller; "anonymous" when the caller ID is withheld (what Retell sends). */
  fromNumber?: string;
  toNumber?: string;
  callType?: 'phone_call' | 'web_call';
  direction?: 'inbound' | 'outbound';
  startMs?: number;
  durationMs?: number;
  /** Default user_hangup. Dial failures (dial_failed, dial_busy, dial_no_answer) never connect. */
  disconnectionReason?: DisconnectionReason;
  callStatus?: 'ended' | 'error' | 'not_connected';
}

const DIAL_FAILURES: readonly DisconnectionReason[] = ['dial_failed', 'dial_busy', 'dial_no_answer'];

/** A call object as Retell sends it (retell-sdk's CallResponse), with its call_id. */
export type CallObject = RetellCallObject;

const TRANSCRIPT =
  'Agent: Guten Tag, wie kann ich helfen?\nUser: Ich möchte einen Termin buchen.\nAgent: Gern, Donnerstag 10 Uhr?\nUser: Passt.';

export function sampleCall(options: SampleCallOptions, event: SampleEvent): RetellCallObject {
  const start = options.startMs ?? Date.now() - 120_000;
  const duration = options.durationMs ?? 61_000;
  const reason = options.disconnectionReason ?? 'user_hangup';
  const neverConnected = DIAL_FAILURES.includes(reason);
  const common = {
    call_id: options.callId,
    agent_id: options.agentId ?? 'agent_f1ce85d06a84afb989dfbb16a9',
    agent_version: options.agentVersion ?? 42,
    call_status:
      event === 'call_started' ? 'ongoing' : (options.callStatus ?? (neverConnected ? 'not_connected' : 'ended')),
    metadata: { source: 'callsync-sample' },
    retell_llm_dynamic_variables: { customer_name: 'Max Mustermann' },
    ...(neverConnected ? {} : { start_timestamp: start }),
  } satisfies Partial<RetellCallObject>;
  const call: RetellCallObject =
    (options.callType ?? 'phone_call') === 'phone_call'
      ? ({
          ...common,
          call_type: 'phone_call',
          direction: options.direction ?? 'inbound',
          from_number: options.fromNumber ?? '+491604366218',
          to_number: options.toNumber ?? '+493033081738',
        } satisfies RetellPhoneCall)
      : ({ ...common, call_type: 'web_call', access_token: `token_${options.callId}` } satisfies RetellWebCall);
  if (event === 'call_started') return call;

  Object.assign(call, {
    end_timestamp: neverConnected ? start : start + duration,
    duration_ms: neverConnected ? 0 : duration,
    disconnection_reason: reason,
    transcript: neverConnected ? '' : TRANSCRIPT,
    transcript_object: [],
    ...(neverConnected
      ? {}
      : {
          recording_url: `https://dxc03zgurdly9.cloudfront.net/${options.callId}/recording.wav`,
          latency: { e2e: { p50: 812, p90: 1130, min: 640, max: 1402, num: 4 } },
          llm_token_usage: { values: [812, 1024, 1301], average: 1045.7, num_requests: 3 },
        }),
    telephony_identifier: { twilio_call_sid: `CA${options.callId}` },
    public_log_url: `https://dxc03zgurdly9.cloudfront.net/${options.callId}/public.log`,
    call_cost: {
      combined_cost: neverConnected ? 0 : 12.5,
      product_costs: [],
      total_duration_seconds: Math.round(duration / 1000),
      total_duration_unit_price: 0.2,
    },
  } satisfies Partial<RetellCallObject>);
  if (event === 'call_analyzed' && !neverConnected) {
    // The post-call analysis is billed too, so call_analyzed carries the final, higher cost.
    call.call_cost = {
      combined_cost: 13.1,
      product_costs: [{ product: 'post_call_analysis', cost: 0.6 }],
      total_duration_seconds: Math.round(duration / 1000),
      total_duration_unit_price: 0.2,
    };
  }
  if (event === 'call_analyzed') {
    call.call_analysis = {
      call_summary: neverConnected
        ? 'The call did not connect.'
        : 'The caller booked an appointment for Thursday 10:00.',
      call_successful: !neverConnected,
      in_voicemail: false,
      user_sentiment: 'Positive',
      custom_analysis_data: {},
    };
  }
  return call;
}

/** The JSON body Retell POSTs for one event of a call. */
export function sampleWebhookBody(options: SampleCallOptions, event: SampleEvent): string {
  return JSON.stringify({ event, call: sampleCall(options, event) } satisfies CallWebhookBody);
}

const TURNS: ['agent' | 'user', string][] = [
  ['agent', 'Guten Tag, wie kann ich helfen?'],
  ['user', 'Ich möchte einen Termin buchen.'],
  ['agent', 'Gern, Donnerstag 10 Uhr?'],
  ['user', 'Passt.'],
  ['agent', 'Ich verbinde Sie mit der Praxis.'],
  ['user', 'Danke.'],
];

/** The first `turns` turns of a conversation (repeating the script for long calls). */
export function sampleTranscript(turns: number): Required<Pick<RetellPhoneCall, 'transcript' | 'transcript_object'>> {
  const list = Array.from({ length: turns }, (_, i) => {
    const [role, content] = TURNS[i % TURNS.length]!;
    return { role, content: i < TURNS.length ? content : `${content} (${i + 1})`, words: [] };
  });
  return {
    transcript: list.map((t) => `${t.role === 'agent' ? 'Agent' : 'User'}: ${t.content}`).join('\n'),
    transcript_object: list,
  };
}

/** transcript_updated after `turns` turns: the live call with its transcript so far. */
export function sampleTranscriptUpdateBody(options: SampleCallOptions, turns: number): string {
  const call: RetellCallObject = { ...sampleCall(options, 'call_started'), ...sampleTranscript(turns) };
  return JSON.stringify({
    event: 'transcript_updated',
    call,
    transcript_with_tool_calls: call.transcript_object,
  } satisfies TranscriptUpdatedBody);
}

export interface SampleTransferOptions {
  /** Where the call is transferred to, as Retell sends it: `{number, extension?}` (a number or a SIP URI). */
  destination: TransferDestinationSent;
  /** Turns of the conversation before the transfer. Default 5. */
  turns?: number;
  /** Default a cold transfer that does not show the transferee as caller. */
  option?: TransferOptionSent;
}

/**
 * A transfer event as Retell documents it: the live call, and beside it transfer_destination and
 * transfer_option (camelCase keys); transfer_ended carries the call only.
 */
export function sampleTransferBody(
  options: SampleCallOptions,
  event: TransferEvent,
  transfer: SampleTransferOptions,
): string {
  const call: RetellCallObject = { ...sampleCall(options, 'call_started'), ...sampleTranscript(transfer.turns ?? 5) };
  const body: TransferWebhookBody = { event, call };
  if (event !== 'transfer_ended') {
    body.transfer_destination = transfer.destination;
    body.transfer_option = transfer.option ?? { type: 'cold_transfer', showTransfereeAsCaller: false };
  }
  return JSON.stringify(body);
}

export interface SampleChatOptions {
  chatId: string;
  agentId?: string;
  chatType?: 'api_chat' | 'sms_chat';
  startMs?: number;
  durationMs?: number;
  chatStatus?: 'ended' | 'error';
  /** A different analysis, as a re-run would give. */
  summary?: string;
}

/** A chat object as Retell sends it with chat_started / chat_ended / chat_analyzed (retell-sdk's ChatResponse). */
export function sampleChat(options: SampleChatOptions, event: ChatEvent): RetellChatObject {
  const start = options.startMs ?? Date.now() - 300_000;
  const chat: RetellChatObject = {
    chat_id: options.chatId,
    agent_id: options.agentId ?? 'agent_c4a7d9e2b1f04e6a8c3d5b7e91',
    version: 3,
    chat_type: options.chatType ?? 'sms_chat',
    chat_status: event === 'chat_started' ? 'ongoing' : (options.chatStatus ?? 'ended'),
    start_timestamp: start,
    metadata: { source: 'callsync-sample' },
    retell_llm_dynamic_variables: { customer_name: 'Erika Musterfrau' },
  };
  if (event === 'chat_started') return chat;
  Object.assign(chat, {
    end_timestamp: start + (options.durationMs ?? 240_000),
    transcript:
      'User: Haben Sie morgen noch einen Termin frei?\nAgent: Ja, um 15 Uhr. Soll ich ihn eintragen?\nUser: Ja bitte.',
    message_with_tool_calls: [],
    chat_cost: { combined_cost: 0.8, product_costs: [{ product: 'gpt-4.1', cost: 0.8 }] },
  } satisfies Partial<RetellChatObject>);
  if (event === 'chat_analyzed') {
    chat.chat_analysis = {
      chat_summary: options.summary ?? 'The customer booked an appointment for tomorrow 15:00.',
      chat_successful: true,
      user_sentiment: 'Positive',
      custom_analysis_data: { appointment_booked: true },
    };
  }
  return chat;
}

export function sampleChatBody(options: SampleChatOptions, event: ChatEvent): string {
  return JSON.stringify({ event, chat: sampleChat(options, event) } satisfies ChatWebhookBody);
}
