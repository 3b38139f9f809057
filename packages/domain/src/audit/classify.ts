import type { AuditGapReason } from '@callsync/db/reconcile';
import { isCallFinished, isChatFinished } from '../events/provider';

/** What Retell's listing says about one call or chat, as the audit needs it. */
export interface ListedItem {
  subject: 'call' | 'chat';
  id: string;
  /** call_status or chat_status. */
  status: string;
  /** Retell has an analysis for it (call_analysis / chat_analysis). */
  analyzed: boolean;
  agentId: string | null;
  startMs: number | null;
  endMs: number | null;
}

/** What callsync has for it. */
export interface HeldState {
  /** Null: no session. */
  status: string | null;
  analyzed: boolean;
  /** Applied events a matching destination has not received (see findUnforwardedEvents). */
  unforwarded: readonly string[];
}

export type Verdict =
  | { kind: 'complete' }
  /** Retell itself is not done with it (registered, ongoing): nothing is missing yet. */
  | { kind: 'in_flight' }
  | { kind: 'gap'; reason: AuditGapReason; detail?: string };

const FINAL_CALL = new Set(['ended', 'error', 'not_connected']);
const FINAL_CHAT = new Set(['ended', 'error']);

/**
 * The audit's rule for one listed call or chat (pure): in flight while Retell is not done with it;
 * else complete when it has a session, the session is final, it is analyzed where Retell analyzed
 * it, and every matching destination received its events. The first check that fails is the gap.
 */
export function classify(item: ListedItem, held: HeldState): Verdict {
  const finished = item.subject === 'call' ? isCallFinished(item.status) : isChatFinished(item.status);
  if (!finished) return { kind: 'in_flight' };
  if (held.status === null) return { kind: 'gap', reason: 'no_session' };
  if (!(item.subject === 'call' ? FINAL_CALL : FINAL_CHAT).has(held.status))
    return { kind: 'gap', reason: 'not_final', detail: `${held.status} here, ${item.status} at Retell` };
  if (item.analyzed && !held.analyzed) return { kind: 'gap', reason: 'not_analyzed' };
  if (held.unforwarded.length) return { kind: 'gap', reason: 'not_forwarded', detail: held.unforwarded.join('; ') };
  return { kind: 'complete' };
}

/** When a gap started to be one: when Retell says the call ended (else when it started). */
export function gapSinceMs(item: ListedItem): number | null {
  return item.endMs ?? item.startMs;
}

/** A gap older than the grace period: reconciliation and forwarding have had their chance. */
export function isOverdue(item: ListedItem, nowMs: number, graceMs: number): boolean {
  const since = gapSinceMs(item);
  return since === null || nowMs - since > graceMs;
}
