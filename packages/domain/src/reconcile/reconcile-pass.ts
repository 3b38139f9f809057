import { type Db } from '@callsync/db';
import { type ForwardHead } from '@callsync/db/forward';
import {
  countSessionsAwaitingAnalysis,
  countChatsAwaitingAnalysis,
  countStaleChats,
  countStaleSessions,
  findChatsAwaitingAnalysis,
  findStaleChats,
  findSessionsAwaitingAnalysis,
  findStaleSessions,
  finishReconcileRun,
  startReconcileRun,
  withReconcileLock,
  type ReconcileCounts,
  type SessionCursor,
} from '@callsync/db/reconcile';
import { mapLimit } from '@callsync/runtime';
import type { ProviderApi } from '../events/provider';
import type { HandlerRegistry } from '../handlers';
import { checkSubject, errorText, type CallReport, type CheckContext } from './check-subject';
import type { CallOutcome, CheckReason } from './decide';
import { discoverSinceWatermarks } from './discover';
import { PassTally } from './pass-tally';
import { callKind, chatKind, type SubjectKind } from './subject-kind';

export type { CallOutcome, CallReport };

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
  /** The provider's API (Retell's client in the apps). */
  retell: ProviderApi;
  handlers: HandlerRegistry;
  /** Jobs for the forward deliveries an apply queued; without it, the outbox sweeper adds them. */
  enqueueForwards?: (heads: ForwardHead[]) => Promise<void>;
}

const DEFAULT_MAX_FAILURES = 20;

const minutesAgo = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000);

/**
 * One reconciliation pass: ask the provider (Retell) about sessions that should have ended by now, and apply what
 * it says through the same handlers as a webhook. Holds a cluster-wide lock, so passes never overlap;
 * walks sessions in batches (keyset), so any number of stale sessions never loads at once.
 */
export async function runReconcilePass(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileSummary> {
  const pass = () => reconcile(deps, options);
  return options.dryRun ? pass() : withReconcileLock(deps.db, pass);
}

type Finder<S> = (cursor: SessionCursor | null) => Promise<S[]>;

/** One kind of candidate: how a batch is loaded after a cursor, and how each is checked. */
interface Walk<S> {
  find: Finder<S>;
  kind: SubjectKind;
  idOf(s: S): string;
  reason: CheckReason;
}

/** A kind's two walks: unfinished ones gone stale, then finished ones still without analysis. */
function walksOf<S extends { id: string; key: Date }>(
  kind: SubjectKind,
  stale: Finder<S>,
  analysis: Finder<S>,
  idOf: (s: S) => string,
): Walk<S>[] {
  return [
    { find: stale, kind, idOf, reason: 'stale' },
    { find: analysis, kind, idOf, reason: 'analysis' },
  ];
}

async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileSummary> {
  const { db, retell } = deps;
  const now = options.now?.() ?? new Date();
  const tally = new PassTally(options);
  const runId = options.dryRun ? null : await startReconcileRun(db, options.trigger, options.runner);
  const ctx: CheckContext = {
    db,
    handlers: deps.handlers,
    enqueueForwards: deps.enqueueForwards,
    write: !options.dryRun,
    maxTries: options.maxTries,
    maxFailures: options.maxFailures ?? DEFAULT_MAX_FAILURES,
  };
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 8;
  const calls = callKind(retell);

  let error: string | null = null;
  try {
    if (options.callIds?.length) {
      tally.found(options.callIds.length);
      tally.expect(options.callIds.length);
      await mapLimit(options.callIds, concurrency, async (id) =>
        tally.report(await checkSubject(ctx, calls, id, 'requested')),
      );
    } else {
      const staleCutoff = minutesAgo(now, options.staleAfterMinutes);
      const analysisCutoff = minutesAgo(now, options.analysisAfterMinutes);
      const getChat = retell.getChat?.bind(retell);
      tally.expect(
        (await countStaleSessions(db, staleCutoff)) +
          (await countSessionsAwaitingAnalysis(db, analysisCutoff)) +
          (getChat ? await countStaleChats(db, staleCutoff) : 0) +
          (getChat ? await countChatsAwaitingAnalysis(db, analysisCutoff) : 0),
      );
      const limits = { batchSize, concurrency };
      const callWalks = walksOf(
        calls,
        (c) => findStaleSessions(db, staleCutoff, c, batchSize),
        (c) => findSessionsAwaitingAnalysis(db, analysisCutoff, now, c, batchSize),
        (s) => s.call_id,
      );
      for (const walk of callWalks) await walkBatches(ctx, tally, limits, walk);
      const chatWalks = getChat
        ? walksOf(
            chatKind(getChat),
            (c) => findStaleChats(db, staleCutoff, c, batchSize),
            (c) => findChatsAwaitingAnalysis(db, analysisCutoff, now, c, batchSize),
            (s) => s.chat_id,
          )
        : [];
      for (const walk of chatWalks) await walkBatches(ctx, tally, limits, walk);
      if (options.discover !== false) await discover(deps, now, options.dryRun, tally);
    }
  } catch (err) {
    error = errorText(err);
    throw err;
  } finally {
    if (runId) await finishReconcileRun(db, runId, tally.counts, error);
  }
  return { ...tally.counts, runId };
}

/** Keyset walk over one kind of candidate, a batch at a time, checking each batch `concurrency` at once. */
async function walkBatches<S extends { id: string; key: Date }>(
  ctx: CheckContext,
  tally: PassTally,
  { batchSize, concurrency }: { batchSize: number; concurrency: number },
  walk: Walk<S>,
): Promise<void> {
  let cursor: SessionCursor | null = null;
  for (;;) {
    const batch = await walk.find(cursor);
    if (batch.length === 0) return;
    tally.found(batch.length);
    await mapLimit(batch, concurrency, async (s) =>
      tally.report(await checkSubject(ctx, walk.kind, walk.idOf(s), walk.reason)),
    );
    const last = batch[batch.length - 1]!;
    cursor = { key: last.key, id: last.id };
    if (batch.length < batchSize) return;
  }
}

/** Calls and chats started since the watermarks that callsync has no session for: created now. */
async function discover(deps: ReconcileDeps, now: Date, dryRun: boolean | undefined, tally: PassTally): Promise<void> {
  const results = await discoverSinceWatermarks(deps, {
    now,
    dryRun,
    onFound: (f) =>
      tally.report({
        callId: f.id,
        subject: f.subject,
        reason: 'discovered',
        outcome: f.error ? 'failed' : 'discovered',
        detail: f.error ?? f.events.join(', '),
      }),
  });
  for (const { kind, summary, error } of results) {
    if (summary) {
      tally.expect(summary.imported + summary.failed);
      tally.found(summary.imported + summary.failed);
    }
    // The listing failed (Retell down): counted as one failed step; the next pass lists the window again.
    if (error)
      tally.stepFailed({
        callId: `list-${kind}`,
        subject: kind === 'calls' ? 'call' : 'chat',
        reason: 'discovered',
        outcome: 'failed',
        detail: error,
      });
  }
}
