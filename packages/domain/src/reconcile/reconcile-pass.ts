import {
  countSessionsAwaitingAnalysis,
  countStaleChats,
  countStaleSessions,
  advanceDiscoveryWatermark,
  findDiscoveryWatermark,
  findStaleChats,
  recordChatReconcileCheck,
  findSessionsAwaitingAnalysis,
  findStaleSessions,
  finishReconcileRun,
  recordReconcileCheck,
  startReconcileRun,
  withReconcileLock,
  type Db,
  type ForwardHead,
  type ReconcileCounts,
  type SessionCursor,
  type SessionToReconcile,
} from '@callsync/db';
import type { CallLookup } from '@callsync/retell';
import type { HandlerRegistry } from '../handlers';
import { applyFromRetell } from './apply-from-retell';
import { decide, decideChat, type CallOutcome, type CheckReason, type Subject } from './decide';
import { discoverMissed } from './discover';
import { mapLimit } from '@callsync/runtime';

export type { CallOutcome };

export interface CallReport {
  /** The call's id, or for a chat (subject 'chat') the chat's. */
  callId: string;
  subject: Subject;
  reason: CheckReason;
  outcome: CallOutcome;
  /** Retell's status, or the error. */
  detail?: string;
}

export interface ReconcileOptions {
  trigger: 'scheduled' | 'manual';
  /** host:pid, recorded on the run. */
  runner: string;
  /** in_progress sessions (and ongoing chats) that started longer ago than this are asked about. */
  staleAfterMinutes: number;
  /** Finished sessions without analysis for longer than this get it fetched. */
  analysisAfterMinutes: number;
  /** After this many not-found answers (or checks without analysis) a session is no longer polled. */
  maxTries: number;
  /**
   * After this many failed checks in a row (errors, not answers) a session is no longer polled, so one
   * Retell keeps failing on is not asked about forever. Default 20: over an hour and a half of passes
   * at the default interval, longer than an outage of Retell's API usually lasts.
   */
  maxFailures?: number;
  /** Only these calls, whatever their age or status. */
  callIds?: readonly string[];
  /** Ask Retell and report, but write nothing. */
  dryRun?: boolean;
  /** List calls and chats started since the watermark and create the missing sessions. Default true. */
  discover?: boolean;
  /** Sessions loaded per query. Default 500. */
  batchSize?: number;
  /** Calls handled at once (the API client bounds its own requests too). Default 8. */
  concurrency?: number;
  /** Called once the number of candidates is known, then after every call. */
  onProgress?: (done: number, total: number) => void;
  onCall?: (report: CallReport) => void;
  now?: () => Date;
}

export interface ReconcileSummary extends ReconcileCounts {
  runId: string | null;
}

export interface ReconcileDeps {
  db: Db;
  retell: CallLookup;
  handlers: HandlerRegistry;
  /** Jobs for the forward deliveries an apply queued; without it, the outbox sweeper adds them. */
  enqueueForwards?: (heads: ForwardHead[]) => Promise<void>;
}

const DEFAULT_MAX_FAILURES = 20;
/** The first discovery (no watermark yet) looks back this far; `make backfill` imports older history. */
const FIRST_DISCOVERY_WINDOW_MS = 3600_000;
/** Each discovery lists a little before the watermark: a call registered late still gets listed. */
const DISCOVERY_OVERLAP_MS = 5 * 60_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

const minutesAgo = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000);

/**
 * One reconciliation pass: ask Retell about sessions that should have ended by now, and apply what
 * it says through the same handlers as a webhook. Holds a cluster-wide lock, so passes never overlap;
 * walks sessions in batches (keyset), so any number of stale sessions never loads at once.
 */
export async function runReconcilePass(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileSummary> {
  const pass = () => reconcile(deps, options);
  return options.dryRun ? pass() : withReconcileLock(deps.db, pass);
}

async function reconcile(
  { db, retell, handlers, enqueueForwards }: ReconcileDeps,
  options: ReconcileOptions,
): Promise<ReconcileSummary> {
  const now = options.now?.() ?? new Date();
  const counts: ReconcileCounts = {
    found: 0,
    ended: 0,
    ongoing: 0,
    not_found: 0,
    analyzed: 0,
    failed: 0,
    discovered: 0,
  };
  const runId = options.dryRun ? null : await startReconcileRun(db, options.trigger, options.runner);
  const write = !options.dryRun;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 8;
  let done = 0;
  let total = 0;

  const report = (r: CallReport) => {
    const key = r.outcome === 'no_analysis' ? 'ongoing' : r.outcome;
    counts[key] += 1;
    done += 1;
    options.onCall?.(r);
    options.onProgress?.(done, total);
  };

  // Ask, decide (pure), then carry the decision out.
  const check = async (reason: CheckReason, callId: string): Promise<void> => {
    try {
      const result = await retell.getCall(callId);
      const decision = decide(reason, result);
      if (write && result.found && decision.apply.length)
        await applyFromRetell(db, { kind: 'call', call: result.call }, decision.apply, handlers, enqueueForwards);
      if (write && decision.record) await recordReconcileCheck(db, callId, decision.record, options.maxTries);
      report({ callId, subject: 'call', reason, outcome: decision.outcome, detail: decision.detail });
    } catch (err) {
      if (write) {
        const maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
        await recordReconcileCheck(db, callId, 'failed', options.maxTries, maxFailures).catch(() => undefined);
      }
      report({ callId, subject: 'call', reason, outcome: 'failed', detail: errorText(err) });
    }
  };

  // The same for an ongoing chat, through get-chat.
  const checkChat = async (getChat: NonNullable<CallLookup['getChat']>, chatId: string): Promise<void> => {
    try {
      const result = await getChat(chatId);
      const decision = decideChat(result);
      if (write && result.found && decision.apply.length)
        await applyFromRetell(db, { kind: 'chat', chat: result.chat }, decision.apply, handlers, enqueueForwards);
      if (write) await recordChatReconcileCheck(db, chatId, decision.record, options.maxTries);
      report({ callId: chatId, subject: 'chat', reason: 'stale', outcome: decision.outcome, detail: decision.detail });
    } catch (err) {
      if (write) {
        const maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
        await recordChatReconcileCheck(db, chatId, 'failed', options.maxTries, maxFailures).catch(() => undefined);
      }
      report({ callId: chatId, subject: 'chat', reason: 'stale', outcome: 'failed', detail: errorText(err) });
    }
  };

  const walk = async <S extends { id: string; key: Date }>(
    find: (cursor: SessionCursor | null) => Promise<S[]>,
    checkOne: (s: S) => Promise<void>,
  ): Promise<void> => {
    let cursor: SessionCursor | null = null;
    for (;;) {
      const batch = await find(cursor);
      if (batch.length === 0) return;
      counts.found += batch.length;
      await mapLimit(batch, concurrency, checkOne);
      const last = batch[batch.length - 1]!;
      cursor = { key: last.key, id: last.id };
      if (batch.length < batchSize) return;
    }
  };

  // Calls and chats started since the watermark that callsync has no session for: created now.
  const discover = async (at: Date): Promise<void> => {
    const untilMs = at.getTime();
    for (const kind of ['calls', 'chats'] as const) {
      if (kind === 'calls' ? !retell.listCalls : !retell.listChats) continue;
      const watermark = await findDiscoveryWatermark(db, kind);
      const sinceMs = (watermark ?? untilMs - FIRST_DISCOVERY_WINDOW_MS) - DISCOVERY_OVERLAP_MS;
      try {
        const found = await discoverMissed(
          { db, retell, handlers, enqueueForwards },
          {
            sinceMs,
            untilMs,
            kinds: [kind],
            dryRun: options.dryRun,
            onFound: (f) =>
              report({
                callId: f.id,
                subject: f.subject,
                reason: 'discovered',
                outcome: f.error ? 'failed' : 'discovered',
                detail: f.error ?? f.events.join(', '),
              }),
          },
        );
        total += found.imported + found.failed;
        counts.found += found.imported + found.failed;
        // A call that failed to import is listed again next time: the watermark stays before it.
        if (write) await advanceDiscoveryWatermark(db, kind, Math.min(untilMs, found.earliestFailureMs ?? untilMs));
      } catch (err) {
        // Listing failed (Retell down): the watermark stays, the next pass lists the window again.
        counts.failed += 1;
        options.onCall?.({
          callId: `list-${kind}`,
          subject: kind === 'calls' ? 'call' : 'chat',
          reason: 'discovered',
          outcome: 'failed',
          detail: errorText(err),
        });
      }
    }
  };

  let error: string | null = null;
  try {
    if (options.callIds?.length) {
      total = options.callIds.length;
      counts.found = total;
      options.onProgress?.(0, total);
      await mapLimit(options.callIds, concurrency, (id) => check('requested', id));
    } else {
      const staleCutoff = minutesAgo(now, options.staleAfterMinutes);
      const analysisCutoff = minutesAgo(now, options.analysisAfterMinutes);
      const getChat = retell.getChat?.bind(retell);
      total =
        (await countStaleSessions(db, staleCutoff)) +
        (await countSessionsAwaitingAnalysis(db, analysisCutoff)) +
        (getChat ? await countStaleChats(db, staleCutoff) : 0);
      options.onProgress?.(0, total);
      const call = (reason: CheckReason) => (s: SessionToReconcile) => check(reason, s.call_id);
      await walk((c) => findStaleSessions(db, staleCutoff, c, batchSize), call('stale'));
      await walk((c) => findSessionsAwaitingAnalysis(db, analysisCutoff, now, c, batchSize), call('analysis'));
      if (getChat)
        await walk(
          (c) => findStaleChats(db, staleCutoff, c, batchSize),
          (s) => checkChat(getChat, s.chat_id),
        );
      if (options.discover !== false) await discover(now);
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    if (runId) await finishReconcileRun(db, runId, counts, error);
  }
  return { ...counts, runId };
}
