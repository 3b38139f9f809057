import {
  sampleChatBody,
  sampleTranscriptUpdateBody,
  sampleTransferBody,
  sampleWebhookBody,
  type SampleCallOptions,
  type SampleEvent,
} from '@callsync/retell';

export interface Delivery {
  label: string;
  body: string;
}

export interface Scenario {
  title: string;
  /** The call's id, or the chat's for a chat. */
  callId: string;
  chat?: boolean;
  deliveries: Delivery[];
}

export const DEMO_AGENT = 'agent_demo_callsync';
/** Blocked for Praxis Dr. Weber in examples/tenants.yaml. */
export const BLOCKED_CALLER = '+4915112345678';

const deliveries = (call: SampleCallOptions, events: readonly SampleEvent[]): Delivery[] =>
  events.map((event) => ({ label: event, body: sampleWebhookBody(call, event) }));

/** The demo's calls and chat, each with the deliveries Retell would send for it, ids unique to `run`. */
export function scenarios(run: string): Scenario[] {
  const full = { callId: `demo_full_${run}`, agentId: DEMO_AGENT };
  const anon = { callId: `demo_anonymous_${run}`, agentId: DEMO_AGENT, fromNumber: 'anonymous' };
  const failed = {
    callId: `demo_dial_failed_${run}`,
    agentId: DEMO_AGENT,
    direction: 'outbound' as const,
    disconnectionReason: 'dial_failed' as const,
  };
  const redelivered = { callId: `demo_redelivered_${run}`, agentId: 'agent_not_registered' };
  const transferred = {
    callId: `demo_transferred_${run}`,
    agentId: DEMO_AGENT,
    disconnectionReason: 'call_transfer' as const,
  };
  // As Retell sends it: the destination an object with number and extension, the option camelCase.
  const practice = {
    destination: { number: '+493012345678', extension: '21' },
    option: { type: 'warm_transfer' as const, showTransfereeAsCaller: true, agentDetectionTimeoutMs: 15000 },
    turns: 5,
  };
  const rerun = { callId: `demo_rerun_${run}`, agentId: DEMO_AGENT };
  const rerunAnalysis = JSON.parse(sampleWebhookBody(rerun, 'call_analyzed')) as {
    call: { call_analysis: Record<string, unknown> };
  };
  rerunAnalysis.call.call_analysis = {
    ...rerunAnalysis.call.call_analysis,
    call_summary: 'Re-run analysis: the caller booked Thursday 10:00 and wants an SMS reminder.',
    custom_analysis_data: { reminder: 'sms' },
  };
  const chat = { chatId: `demo_chat_${run}`, agentId: DEMO_AGENT };
  return [
    {
      title: 'a full call',
      callId: full.callId,
      deliveries: deliveries(full, ['call_started', 'call_ended', 'call_analyzed']),
    },
    {
      title: 'an anonymous caller',
      callId: anon.callId,
      deliveries: deliveries(anon, ['call_started', 'call_ended']),
    },
    {
      title: 'a dial that failed (no call_started)',
      callId: failed.callId,
      deliveries: deliveries(failed, ['call_ended', 'call_analyzed']),
    },
    {
      title: 'a redelivered call_ended, sent before call_started (unknown agent)',
      callId: redelivered.callId,
      deliveries: [
        ...deliveries(redelivered, ['call_ended']),
        { label: 'call_ended (Retell retry)', body: sampleWebhookBody(redelivered, 'call_ended') },
        { label: 'call_started (late)', body: sampleWebhookBody(redelivered, 'call_started') },
      ],
    },
    {
      title: 'a call with a live transcript, transferred to the practice',
      callId: transferred.callId,
      deliveries: [
        ...deliveries(transferred, ['call_started']),
        { label: 'transcript_updated (2 turns)', body: sampleTranscriptUpdateBody(transferred, 2) },
        { label: 'transcript_updated (4 turns)', body: sampleTranscriptUpdateBody(transferred, 4) },
        { label: 'transfer_started', body: sampleTransferBody(transferred, 'transfer_started', practice) },
        { label: 'transfer_bridged', body: sampleTransferBody(transferred, 'transfer_bridged', practice) },
        ...deliveries(transferred, ['call_ended', 'call_analyzed']),
      ],
    },
    {
      title: 'a re-run analysis (PUT /rerun-call-analysis)',
      callId: rerun.callId,
      deliveries: [
        ...deliveries(rerun, ['call_ended', 'call_analyzed']),
        { label: 'call_analyzed (re-run)', body: JSON.stringify(rerunAnalysis) },
      ],
    },
    {
      title: 'an SMS chat with a chat agent',
      callId: chat.chatId,
      chat: true,
      deliveries: (['chat_started', 'chat_ended', 'chat_analyzed'] as const).map((event) => ({
        label: event,
        body: sampleChatBody(chat, event),
      })),
    },
  ];
}
