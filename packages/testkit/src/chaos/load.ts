import { sign } from 'retell-sdk';
import { identifyDelivery, parseEnvelope, type ChatEvent, type TransferEvent } from '@callsync/domain';
import {
  sampleCall,
  sampleChat,
  sampleChatBody,
  sampleTransferBody,
  sampleWebhookBody,
  type RetellCallObject,
  type RetellChatObject,
  type SampleCallOptions,
  type SampleEvent,
} from '@callsync/retell';

/** Deterministic PRNG (mulberry32), so a run can be repeated with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedEvent {
  /** The call's id, or the chat's. */
  callId: string;
  event: string;
  body: string;
  /** The row it must end up as (the ingress's dedupe key for the body). */
  dedupeKey: string;
}

export interface LoadPlan {
  calls: number;
  events: PlannedEvent[];
  /** Event indexes in send order; an event appears up to 3 times (Retell's duplicates). */
  deliveries: number[];
  /**
   * What Retell knows of every call and chat, as its last planned event left it: the fake Retell's
   * listing (and get-call), which reconciliation and the audit read.
   */
  retell: { calls: RetellCallObject[]; chats: RetellChatObject[] };
  /** Calls whose webhooks are never sent (WITHHELD_SHARE of them): only Retell's listing has them. */
  withheld: string[];
}

/** The share of calls whose webhooks are never sent: reconciliation's discovery must find them. */
export const WITHHELD_SHARE = 0.05;

type Step = SampleEvent | TransferEvent | ChatEvent;

const TRANSFER = { destination: { number: '+493012345678', extension: '12' }, turns: 5 };

const PATTERNS: { weight: number; events: Step[]; call?: Partial<SampleCallOptions>; chat?: boolean }[] = [
  { weight: 0.55, events: ['call_started', 'call_ended', 'call_analyzed'] },
  { weight: 0.1, events: ['call_started', 'call_ended', 'call_analyzed'], call: { fromNumber: 'anonymous' } },
  {
    weight: 0.1,
    events: ['call_ended', 'call_analyzed'],
    call: { disconnectionReason: 'dial_failed', direction: 'outbound' },
  },
  { weight: 0.06, events: ['call_started', 'call_ended'] },
  { weight: 0.05, events: ['call_started'] },
  // Transferred to a person: the transfer events arrive mixed with the lifecycle.
  {
    weight: 0.07,
    events: ['call_started', 'transfer_started', 'transfer_bridged', 'call_ended', 'call_analyzed'],
    call: { disconnectionReason: 'call_transfer' },
  },
  // A chat agent's SMS conversation.
  { weight: 0.07, events: ['chat_started', 'chat_ended', 'chat_analyzed'], chat: true },
];

function bodyOf(step: Step, options: SampleCallOptions): string {
  if (step.startsWith('chat_'))
    return sampleChatBody(
      { chatId: options.callId, startMs: options.startMs, durationMs: options.durationMs },
      step as ChatEvent,
    );
  if (step.startsWith('transfer_')) return sampleTransferBody(options, step as TransferEvent, TRANSFER);
  return sampleWebhookBody(options, step as SampleEvent);
}

function planned(callId: string, event: string, body: string): PlannedEvent {
  const parsed = parseEnvelope(JSON.parse(body));
  if (!parsed.ok) throw new Error(`chaos plan: ${parsed.message}`);
  const { dedupeKey } = identifyDelivery(parsed.envelope, JSON.parse(body), Buffer.from(body));
  return { callId, event, body, dedupeKey };
}

/**
 * About n/3 calls and chats with realistic event sets (full calls, anonymous callers, failed dials
 * without call_started, calls that never end, transferred calls, SMS chats), their events shuffled
 * across calls, and events sent 3x until there are n deliveries.
 */
export function planLoad(n: number, seed: number, runId: string): LoadPlan {
  const random = rng(seed);
  const events: PlannedEvent[] = [];
  const calls = Math.max(1, Math.round(n / 3));
  const distinctTarget = Math.round(n * 0.8);
  let c = 0;
  const retell: LoadPlan['retell'] = { calls: [], chats: [] };
  const withheld: string[] = [];
  for (; c < calls && events.length < distinctTarget; c++) {
    let r = random();
    const pattern = PATTERNS.find((p) => (r -= p.weight) < 0) ?? PATTERNS[0]!;
    // Not a failed dial: Retell lists only calls that started.
    const hidden = !pattern.chat && pattern.events[0] === 'call_started' && random() < WITHHELD_SHARE;
    const options: SampleCallOptions = {
      callId: `chaos_${runId}_${pattern.chat ? 'chat' : hidden ? 'lost' : 'call'}_${c}`,
      // A withheld call started minutes ago (and has ended): inside the window reconciliation's
      // first discovery lists, however long the run took.
      startMs: hidden
        ? Date.now() - 1_200_000 + Math.floor(random() * 600_000)
        : Date.now() - 3_600_000 + Math.floor(random() * 600_000),
      durationMs: 5_000 + Math.floor(random() * 300_000),
      ...pattern.call,
    };
    const last = pattern.events.filter((e) => !e.startsWith('transfer_')).at(-1)!;
    if (pattern.chat)
      retell.chats.push(
        sampleChat(
          { chatId: options.callId, startMs: options.startMs, durationMs: options.durationMs },
          last as ChatEvent,
        ),
      );
    else retell.calls.push(sampleCall(options, last as SampleEvent));
    if (hidden) {
      withheld.push(options.callId);
      continue;
    }
    for (const event of pattern.events) events.push(planned(options.callId, event, bodyOf(event, options)));
  }
  const deliveries = events.map((_, i) => i);
  // Duplicates: chosen events are sent 3 times in all, until the load has n deliveries.
  const candidates = [...deliveries];
  while (deliveries.length < n && candidates.length > 0) {
    const pick = candidates.splice(Math.floor(random() * candidates.length), 1)[0]!;
    deliveries.push(pick);
    if (deliveries.length < n) deliveries.push(pick);
  }
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  return { calls: c, events, deliveries, retell, withheld };
}

export interface Attempt {
  /** HTTP status, or 0 for a timeout or a connection error. */
  status: number;
  at: number;
  ms: number;
  error?: string;
}

export interface DeliveryOutcome {
  eventIndex: number;
  attempts: Attempt[];
  acked: boolean;
}

export interface SendOptions {
  url: string;
  apiKey: string;
  /** Spread the deliveries evenly over this long. */
  durationMs: number;
  /** Requests in flight at once. Default 32. */
  concurrency?: number;
  /** Retell waits 10 s for a 2xx. */
  timeoutMs?: number;
  /** Retell retries a 5xx or a timeout up to 3 times. */
  retryDelaysMs?: number[];
  onProgress?: (sent: number) => void;
}

/** Send the plan like Retell: signed with retell-sdk, 10 s timeout, up to 3 retries of a 5xx or timeout. */
export async function sendLoad(plan: LoadPlan, send: SendOptions): Promise<DeliveryOutcome[]> {
  const timeoutMs = send.timeoutMs ?? 10_000;
  const retryDelays = send.retryDelaysMs ?? [1_000, 3_000, 9_000];
  const start = Date.now();
  const gap = send.durationMs / plan.deliveries.length;
  const outcomes: DeliveryOutcome[] = new Array(plan.deliveries.length);
  let next = 0;
  let sent = 0;

  const deliver = async (eventIndex: number): Promise<DeliveryOutcome> => {
    const { body } = plan.events[eventIndex]!;
    const attempts: Attempt[] = [];
    for (let i = 0; i <= retryDelays.length; i++) {
      const at = Date.now();
      let status = 0;
      let error: string | undefined;
      try {
        const res = await fetch(send.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, send.apiKey) },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch (err) {
        error = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
      }
      attempts.push({ status, at, ms: Date.now() - at, error });
      if (status >= 200 && status < 300) return { eventIndex, attempts, acked: true };
      if (status >= 400 && status < 500) break; // not retried by Retell; a bug here
      if (i < retryDelays.length) await new Promise((r) => setTimeout(r, retryDelays[i]));
    }
    return { eventIndex, attempts, acked: false };
  };

  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= plan.deliveries.length) return;
      const due = start + i * gap;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      outcomes[i] = await deliver(plan.deliveries[i]!);
      send.onProgress?.(++sent);
    }
  };
  await Promise.all(Array.from({ length: send.concurrency ?? 32 }, lane));
  return outcomes;
}
