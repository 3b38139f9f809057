import { type Db } from '@callsync/db';
import { recordChatReconcileCheck, recordReconcileCheck, type ReconcileCheck } from '@callsync/db/reconcile';
import type { CallLookupResult, ChatLookupResult, ProviderApi } from '../events/provider';
import type { ProviderRecord } from './apply-from-provider';
import { decide, decideChat, type CallOutcome, type CheckReason, type Subject } from './decide';

/** The provider's answer about one call or chat, decided: what happened and what to write. */
export interface KindDecision<C extends ReconcileCheck> {
  outcome: Exclude<CallOutcome, 'failed' | 'discovered'>;
  detail: string;
  /** Events to apply from `record`, in this order. */
  apply: readonly string[];
  /** What the provider returned, when it found the subject. */
  record: ProviderRecord | null;
  /** The check to record on the session. */
  check?: C;
}

/**
 * What a reconciliation check does differently for a call and a chat: how the provider is asked,
 * what its answer means (decide.ts, pure) and where the check is recorded. Everything else is one
 * path (`checkSubject`).
 */
export interface SubjectKind<C extends ReconcileCheck = ReconcileCheck> {
  subject: Subject;
  ask(id: string, reason: CheckReason): Promise<KindDecision<C>>;
  recordCheck(db: Db, id: string, check: C | 'failed', maxTries: number, maxFailures?: number): Promise<void>;
}

/** A kind from its lookup, its pure decision, and the record a found answer applies. */
function subjectKind<R>(
  subject: Subject,
  lookup: (id: string) => Promise<R>,
  decideOn: (
    result: R,
    reason: CheckReason,
  ) => Omit<KindDecision<ReconcileCheck>, 'record' | 'check'> & {
    record?: ReconcileCheck;
  },
  recordOf: (result: R) => ProviderRecord | null,
  recordCheck: SubjectKind['recordCheck'],
): SubjectKind {
  return {
    subject,
    async ask(id, reason) {
      const result = await lookup(id);
      const d = decideOn(result, reason);
      return { outcome: d.outcome, detail: d.detail, apply: d.apply, record: recordOf(result), check: d.record };
    },
    recordCheck,
  };
}

export function callKind(provider: ProviderApi): SubjectKind {
  return subjectKind(
    'call',
    (id) => provider.getCall(id),
    (result: CallLookupResult, reason) => decide(reason, result),
    (result) => (result.found ? { kind: 'call', call: result.call } : null),
    recordReconcileCheck,
  );
}

/** Chats are asked about while ongoing (`stale`), and once ended without analysis (`analysis`). */
export function chatKind(getChat: (chatId: string) => Promise<ChatLookupResult>): SubjectKind {
  return subjectKind(
    'chat',
    getChat,
    (result: ChatLookupResult, reason) => decideChat(result, reason),
    (result) => (result.found ? { kind: 'chat', chat: result.chat } : null),
    recordChatReconcileCheck,
  );
}
