import type { Db } from '@callsync/db';
import { findAllCallSessions, findAllChatSessions, findAllWebhookEvents } from '@callsync/db/testing';
import {
  CALL_EVENTS,
  chatPatchFromEvent,
  foldTransfers,
  isChatEvent,
  isTransferEvent,
  mergeChat,
  mergeSession,
  parseCall,
  parseChat,
  patchFromEvent,
  transferEventOf,
  type ChatState,
  type SessionState,
  type TransferEventFact,
} from '@callsync/domain';
import type { DeliveryOutcome, LoadPlan } from './load';

/** A time when 503s are right: Postgres down, webhook_events locked, or a worker frozen with rows locked. */
export interface OutageWindow {
  from: number;
  to: number;
}

export interface ChaosReport {
  deliveriesSent: number;
  httpAttempts: number;
  distinctEvents: number;
  /** Distinct events planned, per event type (the mix the load had). */
  eventTypes: Record<string, number>;
  acknowledged: number;
  notAcknowledged: number;
  processed: number;
  /** Acknowledged, but no row, or a row not processed. */
  lost: string[];
  /** Rows no delivery explains. */
  phantom: string[];
  /** Rows whose delivery_count is outside [acked deliveries, HTTP attempts]. */
  badCounts: string[];
  pendingLeft: number;
  sessionMismatches: string[];
  /** 5xx other than 503, or a 503 outside the outages (Postgres down, the table locked). */
  bad5xx: string[];
  status503: number;
  timeouts: number;
  /** The slowest answer of any request, in ms. */
  slowestMs: number;
  /** The slowest 503, in ms: how long Retell waits to hear "try later". */
  slowest503Ms: number;
}

function comparable(s: Record<string, unknown>): Record<string, unknown> {
  const ms = (d: unknown) =>
    d instanceof Date ? d.getTime() : d === null || d === undefined ? null : new Date(d as string).getTime();
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    call_status: s.call_status,
    lifecycle_rank: s.lifecycle_rank,
    started_at: ms(s.started_at),
    ended_at: ms(s.ended_at),
    duration_ms: num(s.duration_ms),
    disconnection_reason: s.disconnection_reason ?? null,
    from_number: s.from_number ?? null,
    to_number: s.to_number ?? null,
    direction: s.direction ?? null,
    cost_cents: num(s.cost_cents),
    has_analysis: s.analysis !== null && s.analysis !== undefined,
    transfers: Array.isArray(s.transfers) ? s.transfers.map((t: { outcome: string }) => t.outcome) : [],
  };
}

function comparableChat(s: Record<string, unknown>): Record<string, unknown> {
  const ms = (d: unknown) =>
    d instanceof Date ? d.getTime() : d === null || d === undefined ? null : new Date(d as string).getTime();
  return {
    chat_status: s.chat_status,
    lifecycle_rank: s.lifecycle_rank,
    started_at: ms(s.started_at),
    ended_at: ms(s.ended_at),
    has_analysis: s.analysis !== null && s.analysis !== undefined,
  };
}

/**
 * Compare what was sent and acknowledged with what Postgres holds. Every acknowledged event must
 * be processed; every row must come from a delivery; each session must equal the state machine's
 * merge of exactly the events stored for its call (applied once in effect).
 */
export async function verifyChaos(
  db: Db,
  plan: LoadPlan,
  outcomes: DeliveryOutcome[],
  outages: readonly OutageWindow[],
): Promise<ChaosReport> {
  const byKey = new Map<string, { index: number; acked: number; attempts: number }>();
  const report: ChaosReport = {
    deliveriesSent: outcomes.length,
    httpAttempts: 0,
    distinctEvents: plan.events.length,
    eventTypes: {},
    acknowledged: 0,
    notAcknowledged: 0,
    processed: 0,
    lost: [],
    phantom: [],
    badCounts: [],
    pendingLeft: 0,
    sessionMismatches: [],
    bad5xx: [],
    status503: 0,
    timeouts: 0,
    slowestMs: 0,
    slowest503Ms: 0,
  };
  plan.events.forEach((e, index) => {
    byKey.set(e.dedupeKey, { index, acked: 0, attempts: 0 });
    report.eventTypes[e.event] = (report.eventTypes[e.event] ?? 0) + 1;
  });
  for (const outcome of outcomes) {
    const e = plan.events[outcome.eventIndex]!;
    const k = byKey.get(e.dedupeKey)!;
    k.attempts += outcome.attempts.length;
    if (outcome.acked) k.acked += 1;
    report.httpAttempts += outcome.attempts.length;
    for (const a of outcome.attempts) {
      report.slowestMs = Math.max(report.slowestMs, a.ms);
      if (a.status === 0) report.timeouts += 1;
      if (a.status === 503) {
        report.status503 += 1;
        report.slowest503Ms = Math.max(report.slowest503Ms, a.ms);
        // A 503 is right while Postgres is down or the table locked, and for a moment after, while pools reconnect.
        if (!outages.some((w) => a.at + a.ms >= w.from && a.at <= w.to + 10_000))
          report.bad5xx.push(`${e.dedupeKey} 503 outside the outages`);
      } else if (a.status >= 500 || (a.status >= 400 && a.status < 500)) {
        report.bad5xx.push(`${e.dedupeKey} answered ${a.status}`);
      }
    }
  }
  const ackedKeys = [...byKey.entries()].filter(([, v]) => v.acked > 0);
  report.acknowledged = ackedKeys.length;
  report.notAcknowledged = plan.events.length - ackedKeys.length;

  const rows = await findAllWebhookEvents(db);
  const rowByKey = new Map(rows.map((r) => [r.dedupe_key, r]));
  report.pendingLeft = rows.filter((r) => r.status === 'pending').length;
  report.processed = rows.filter((r) => r.status === 'processed').length;
  for (const [k] of ackedKeys) {
    const row = rowByKey.get(k);
    if (!row || row.status !== 'processed') report.lost.push(`${k} (${row ? row.status : 'no row'})`);
  }
  for (const r of rows) {
    const k = r.dedupe_key;
    const sent = byKey.get(k);
    if (!sent) report.phantom.push(k);
    else if (r.delivery_count < sent.acked || r.delivery_count > sent.attempts) {
      report.badCounts.push(
        `${k}: delivery_count ${r.delivery_count}, acknowledged ${sent.acked}, HTTP attempts ${sent.attempts}`,
      );
    }
  }

  // Expected sessions: the merge of every event stored for the call (or chat), and its transfers.
  const expected = new Map<string, SessionState>();
  const transfers = new Map<string, TransferEventFact[]>();
  const expectedChats = new Map<string, ChatState>();
  for (const r of rows) {
    if (r.call_id !== null && CALL_EVENTS.includes(r.event_type)) {
      const patch = patchFromEvent(r.event_type, parseCall(r.payload), r.created_at, null);
      expected.set(r.call_id, mergeSession(expected.get(r.call_id) ?? null, patch));
      if (isTransferEvent(r.event_type)) {
        const list = transfers.get(r.call_id) ?? [];
        list.push({ id: r.id, ...transferEventOf(r.event_type, r.payload), received_at: r.created_at });
        transfers.set(r.call_id, list);
      }
    } else if (r.chat_id !== null && isChatEvent(r.event_type)) {
      const patch = chatPatchFromEvent(r.event_type, parseChat(r.payload), r.created_at, null);
      expectedChats.set(r.chat_id, mergeChat(expectedChats.get(r.chat_id) ?? null, patch));
    }
  }
  for (const [callId, list] of transfers) expected.get(callId)!.transfers = foldTransfers(list);
  const sessions = await findAllCallSessions(db);
  const actual = new Map(sessions.map((s) => [s.call_id, s]));
  for (const [callId, want] of expected) {
    const got = actual.get(callId);
    const a = got ? JSON.stringify(comparable(got)) : 'no session';
    const b = JSON.stringify(comparable({ ...want }));
    if (a !== b) report.sessionMismatches.push(`${callId}: expected ${b}, got ${a}`);
  }
  for (const callId of actual.keys())
    if (!expected.has(callId)) report.sessionMismatches.push(`${callId}: session without stored events`);
  const chats = new Map((await findAllChatSessions(db)).map((s) => [s.chat_id, s]));
  for (const [chatId, want] of expectedChats) {
    const got = chats.get(chatId);
    const a = got ? JSON.stringify(comparableChat(got)) : 'no chat session';
    const b = JSON.stringify(comparableChat({ ...want }));
    if (a !== b) report.sessionMismatches.push(`${chatId}: expected ${b}, got ${a}`);
  }
  for (const chatId of chats.keys())
    if (!expectedChats.has(chatId)) report.sessionMismatches.push(`${chatId}: chat session without stored events`);
  return report;
}

export function chaosPassed(r: ChaosReport): boolean {
  return (
    r.lost.length === 0 &&
    r.phantom.length === 0 &&
    r.badCounts.length === 0 &&
    r.pendingLeft === 0 &&
    r.sessionMismatches.length === 0 &&
    r.bad5xx.length === 0
  );
}
