import { recordChatReconcileCheck, recordReconcileCheck, type Db, type ReconcileCheck } from '@callsync/db';
import type { CallLookup, GetChatResult } from '@callsync/retell';
import type { RetellRecord } from './apply-from-retell';
import { decide, decideChat, type CallOutcome, type CheckReason, type Subject } from './decide';

/** Retell's answer about one call or chat, decided: what happened and what to write. */
export interface KindDecision<C extends ReconcileCheck> {
  outcome: Exclude<CallOutcome, 'failed' | 'discovered'>;
  detail: string;
  /** Events to apply from `record`, in this order. */
  apply: readonly string[];
  /** What Retell returned, when it found the subject. */
  record: RetellRecord | null;
  /** The check to record on the session. */
  check?: C;
}

/**
 * What a reconciliation check does differently for a call and a chat: how Retell is asked, what its
 * answer means (decide.ts, pure) and where the check is recorded. Everything else is one path
 * (`checkSubject`).
 */
export interface SubjectKind<C extends ReconcileCheck = ReconcileCheck> {
  subject: Subject;
  ask(id: string, reason: CheckReason): Promise<KindDecision<C>>;
  recordCheck(db: Db, id: string, check: C | 'failed', maxTries: number, maxFailures?: number): Promise<void>;
}

export function callKind(retell: CallLookup): SubjectKind {
  return {
    subject: 'call',
    async ask(id, reason) {
      const result = await retell.getCall(id);
      const d = decide(reason, result);
      return {
        outcome: d.outcome,
        detail: d.detail,
        apply: d.apply,
        record: result.found ? { kind: 'call', call: result.call } : null,
        check: d.record,
      };
    },
    recordCheck: recordReconcileCheck,
  };
}

/** Chats are asked about while ongoing (`stale`), and once ended without analysis (`analysis`). */
export function chatKind(getChat: (chatId: string) => Promise<GetChatResult>): SubjectKind {
  return {
    subject: 'chat',
    async ask(id, reason) {
      const result = await getChat(id);
      const d = decideChat(result, reason);
      return {
        outcome: d.outcome,
        detail: d.detail,
        apply: d.apply,
        record: result.found ? { kind: 'chat', chat: result.chat } : null,
        check: d.record,
      };
    },
    recordCheck: recordChatReconcileCheck,
  };
}
