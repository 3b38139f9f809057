import { type Db } from '@callsync/db';
import { notifyErasure } from '@callsync/db/tenants';
import {
  eraseCallSessions,
  eraseChatSessions,
  eraseDeliveriesOf,
  eraseEventsOf,
  eraseFunctionCalls,
  eraseInboundRecordsFrom,
  eraseTransferEvents,
  findCallsOfCaller,
  findSubjects,
  recordErasure,
} from '@callsync/db/privacy';

/*
 * Erasure on request (GDPR Art. 17, `make forget`): one caller (every call from or to their number)
 * or chosen calls and chats. Their personal data leaves every table callsync writes, in one
 * transaction; rows stay with their ids, statuses and counts, so reports and dedupe still work.
 * Erased sessions keep erased_at: a late delivery for them is stored but never applied, and
 * reconciliation no longer asks Retell about them. Then Retell is asked to delete the calls too.
 */

/** What Retell's API offers for erasure (RetellApiClient has it; tests may pass their own). */
export interface CallDeleter {
  deleteCall(callId: string): Promise<{ deleted: boolean; status: number }>;
}

export type ForgetTarget = { caller: string; callerHashes: readonly string[] } | { ids: readonly string[] };

export interface ForgetReport {
  erasureId: string;
  calls: string[];
  chats: string[];
  /** Rows that still held something and now do not, per table. */
  removed: Record<string, number>;
  retell: { deleted: string[]; unknown: string[]; failed: { callId: string; error: string }[]; skipped: boolean };
}

export async function forget(
  deps: { db: Db; retell?: CallDeleter },
  target: ForgetTarget,
  options: { localOnly?: boolean } = {},
): Promise<ForgetReport> {
  const { db } = deps;
  const localOnly = options.localOnly === true || !deps.retell;
  const { calls, chats, removed } = await db.transaction().execute(async (trx) => {
    let calls: string[];
    let chats: string[] = [];
    if ('caller' in target) {
      calls = await findCallsOfCaller(trx, target.caller, target.callerHashes);
    } else {
      const found = await findSubjects(trx, target.ids);
      // An id callsync has no session for is still a call Retell may hold: ask it to delete it too.
      calls = [...new Set([...found.calls, ...target.ids.filter((id) => !found.chats.includes(id))])];
      chats = found.chats;
    }
    const removed: Record<string, number> = {
      retell_call_sessions: await eraseCallSessions(trx, calls),
      retell_chat_sessions: await eraseChatSessions(trx, chats),
      webhook_events: await eraseEventsOf(trx, { callIds: calls, chatIds: chats }),
      function_calls: await eraseFunctionCalls(trx, calls),
      retell_call_transfer_events: await eraseTransferEvents(trx, calls),
      forward_deliveries: await eraseDeliveriesOf(trx, [...calls, ...chats]),
    };
    if ('caller' in target) removed.webhook_events! += await eraseInboundRecordsFrom(trx, target.caller);
    // On commit, the live routes drop the callers they prefetched (the erased one may be among them).
    await notifyErasure(trx);
    return { calls, chats, removed };
  });

  const retell: ForgetReport['retell'] = { deleted: [], unknown: [], failed: [], skipped: localOnly };
  if (!localOnly) {
    for (const callId of calls) {
      try {
        const r = await deps.retell!.deleteCall(callId);
        (r.deleted ? retell.deleted : retell.unknown).push(callId);
      } catch (err) {
        retell.failed.push({ callId, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  const erasureId = await recordErasure(db, {
    scope: 'caller' in target ? 'caller' : 'call',
    localOnly,
    removed,
    retellDeleted: retell.deleted.length,
    retellFailed: retell.failed.length,
  });
  return { erasureId, calls, chats, removed, retell };
}
