import { findAllCallSessions, findAllWebhookEvents, type Db } from '@callsync/db';
import { isLifecycleEvent, mergeSession, parseCall, patchFromEvent, type SessionState } from '@callsync/domain';
import type { DeliveryOutcome, LoadPlan } from './load';

/** A time when 503s are right: Postgres down, or webhook_events locked. */
export interface OutageWindow {
  from: number;
  to: number;
}

export interface ChaosReport {
  deliveriesSent: number;
  httpAttempts: number;
  distinctEvents: number;
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

const key = (event: string, subjectId: string | null) => `${event}:${subjectId ?? ''}`;

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
  plan.events.forEach((e, index) => byKey.set(key(e.event, e.callId), { index, acked: 0, attempts: 0 }));
  for (const outcome of outcomes) {
    const e = plan.events[outcome.eventIndex]!;
    const k = byKey.get(key(e.event, e.callId))!;
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
          report.bad5xx.push(`${e.event}:${e.callId} 503 outside the outages`);
      } else if (a.status >= 500 || (a.status >= 400 && a.status < 500)) {
        report.bad5xx.push(`${e.event}:${e.callId} answered ${a.status}`);
      }
    }
  }
  const ackedKeys = [...byKey.entries()].filter(([, v]) => v.acked > 0);
  report.acknowledged = ackedKeys.length;
  report.notAcknowledged = plan.events.length - ackedKeys.length;

  const rows = await findAllWebhookEvents(db);
  const rowByKey = new Map(rows.map((r) => [key(r.event_type, r.call_id ?? r.chat_id), r]));
  report.pendingLeft = rows.filter((r) => r.status === 'pending').length;
  report.processed = rows.filter((r) => r.status === 'processed').length;
  for (const [k] of ackedKeys) {
    const row = rowByKey.get(k);
    if (!row || row.status !== 'processed') report.lost.push(`${k} (${row ? row.status : 'no row'})`);
  }
  for (const r of rows) {
    const k = key(r.event_type, r.call_id ?? r.chat_id);
    const sent = byKey.get(k);
    if (!sent) report.phantom.push(k);
    else if (r.delivery_count < sent.acked || r.delivery_count > sent.attempts) {
      report.badCounts.push(
        `${k}: delivery_count ${r.delivery_count}, acknowledged ${sent.acked}, HTTP attempts ${sent.attempts}`,
      );
    }
  }

  // Expected sessions: the merge of every lifecycle event stored for the call.
  const expected = new Map<string, SessionState>();
  for (const r of rows) {
    if (!isLifecycleEvent(r.event_type) || r.call_id === null) continue;
    const patch = patchFromEvent(r.event_type, parseCall(r.payload), r.created_at, null);
    expected.set(r.call_id, mergeSession(expected.get(r.call_id) ?? null, patch));
  }
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
