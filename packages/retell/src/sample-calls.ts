import type { LifecycleEvent } from './events';
/**
 * Realistic Retell call objects and webhook bodies, for `make demo`, the tests and the fake
 * Retell API. Shapes follow Retell's webhook documentation: call_started carries basic info, call_ended the whole
 * call without analysis, call_analyzed the whole call with it.
 */

export type SampleEvent = LifecycleEvent;

export interface SampleCallOptions {
  callId: string;
  agentId?: string;
  agentVersion?: number;
  fromNumber?: string | null;
  toNumber?: string | null;
  callType?: 'phone_call' | 'web_call';
  direction?: 'inbound' | 'outbound';
  startMs?: number;
  durationMs?: number;
  /** Default user_hangup. Dial failures (dial_failed, dial_busy, dial_no_answer) never connect. */
  disconnectionReason?: string;
  callStatus?: 'ended' | 'error' | 'not_connected';
}

const DIAL_FAILURES = ['dial_failed', 'dial_busy', 'dial_no_answer'];

/** A call object as Retell sends it: open-ended, always with a call_id. */
export type CallObject = Record<string, unknown> & { call_id: string };

export function sampleCall(options: SampleCallOptions, event: SampleEvent): CallObject {
  const start = options.startMs ?? Date.now() - 120_000;
  const duration = options.durationMs ?? 61_000;
  const reason = options.disconnectionReason ?? 'user_hangup';
  const neverConnected = DIAL_FAILURES.includes(reason);
  const phone = (options.callType ?? 'phone_call') === 'phone_call';
  const call: CallObject = {
    call_id: options.callId,
    agent_id: options.agentId ?? 'agent_f1ce85d06a84afb989dfbb16a9',
    agent_version: options.agentVersion ?? 42,
    call_type: options.callType ?? 'phone_call',
    ...(phone
      ? {
          direction: options.direction ?? 'inbound',
          from_number: options.fromNumber === undefined ? '+491604366218' : options.fromNumber,
          to_number: options.toNumber === undefined ? '+493033081738' : options.toNumber,
        }
      : {}),
    call_status:
      event === 'call_started' ? 'ongoing' : (options.callStatus ?? (neverConnected ? 'not_connected' : 'ended')),
    metadata: { source: 'callsync-sample' },
    retell_llm_dynamic_variables: { customer_name: 'Max Mustermann' },
  };
  if (phone && call.from_number === null) delete call.from_number;
  if (phone && call.to_number === null) delete call.to_number;
  if (!neverConnected) call.start_timestamp = start;
  if (event === 'call_started') return call;

  Object.assign(call, {
    end_timestamp: neverConnected ? start : start + duration,
    duration_ms: neverConnected ? 0 : duration,
    disconnection_reason: reason,
    transcript: neverConnected
      ? ''
      : 'Agent: Guten Tag, wie kann ich helfen?\nUser: Ich möchte einen Termin buchen.\nAgent: Gern, Donnerstag 10 Uhr?\nUser: Passt.',
    transcript_object: [],
    recording_url: neverConnected ? undefined : `https://dxc03zgurdly9.cloudfront.net/${options.callId}/recording.wav`,
    public_log_url: `https://dxc03zgurdly9.cloudfront.net/${options.callId}/public.log`,
    call_cost: {
      combined_cost: neverConnected ? 0 : 12.5,
      product_costs: [],
      total_duration_seconds: Math.round(duration / 1000),
    },
  });
  if (event === 'call_analyzed' && !neverConnected) {
    // The post-call analysis is billed too, so call_analyzed carries the final, higher cost.
    call.call_cost = {
      combined_cost: 13.1,
      product_costs: [{ product: 'post_call_analysis', cost: 0.6 }],
      total_duration_seconds: Math.round(duration / 1000),
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
  return JSON.stringify({ event, call: sampleCall(options, event) });
}
