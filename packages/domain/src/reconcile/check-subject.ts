import type { Db } from '@callsync/db';
import type { ForwardHead } from '@callsync/db/forward';
import type { ReconcileCheck } from '@callsync/db/reconcile';
import type { HandlerRegistry } from '../handlers';
import { applyFromProvider } from './apply-from-provider';
import type { CallOutcome, CheckReason, Subject } from './decide';
import type { SubjectKind } from './subject-kind';

export interface CallReport {
  /** The call's id, or for a chat (subject 'chat') the chat's. */
  callId: string;
  subject: Subject;
  reason: CheckReason;
  outcome: CallOutcome;
  /** Retell's status, or the error. */
  detail?: string;
}

export interface CheckContext {
  db: Db;
  handlers: HandlerRegistry;
  enqueueForwards?: (heads: ForwardHead[]) => Promise<void>;
  /** False on a dry run: ask and report, write nothing. */
  write: boolean;
  maxTries: number;
  maxFailures: number;
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One check of a call or a chat: ask Retell, decide (pure), then carry the decision out through the
 * webhook's handlers and record the check. Never throws: a failure is the report's outcome.
 */
export async function checkSubject<C extends ReconcileCheck>(
  ctx: CheckContext,
  kind: SubjectKind<C>,
  id: string,
  reason: CheckReason,
): Promise<CallReport> {
  try {
    const decision = await kind.ask(id, reason);
    if (ctx.write && decision.record && decision.apply.length)
      await applyFromProvider(ctx.db, decision.record, decision.apply, ctx.handlers, ctx.enqueueForwards);
    if (ctx.write && decision.check) await kind.recordCheck(ctx.db, id, decision.check, ctx.maxTries);
    return { callId: id, subject: kind.subject, reason, outcome: decision.outcome, detail: decision.detail };
  } catch (err) {
    if (ctx.write)
      await kind.recordCheck(ctx.db, id, 'failed', ctx.maxTries, ctx.maxFailures).catch(() => {
        // Recording the failure failed as well (Postgres is unreachable): the check is still reported
        // and counted as failed below, and the session, its failures uncounted, is asked about next pass.
      });
    return { callId: id, subject: kind.subject, reason, outcome: 'failed', detail: errorText(err) };
  }
}
