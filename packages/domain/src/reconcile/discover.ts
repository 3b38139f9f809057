import { type Db } from '@callsync/db';
import { type ForwardHead } from '@callsync/db/forward';
import { advanceDiscoveryWatermark, findDiscoveryWatermark, findKnownSessions } from '@callsync/db/reconcile';
import {
  isCallFinished,
  isChatFinished,
  type ProviderApi,
  type ProviderCall,
  type ProviderChat,
} from '../events/provider';
import type { HandlerRegistry } from '../handlers';
import { applyFromProvider } from './apply-from-provider';
import { errorText } from './check-subject';

/*
 * Discovery: calls and chats that exist at Retell but that callsync never heard of (every webhook
 * lost, or from before callsync ran). They are listed by start time and created through the same
 * handlers as a webhook (source = reconcile, see applyFromProvider). v3 list items leave out every
 * transcript field, so a finished call is read whole with get-call before it is applied. Callers
 * hold the reconciliation lock, so two discoveries never import the same call at once.
 */

export interface DiscoveryFound {
  subject: 'call' | 'chat';
  id: string;
  /** The events applied (none on a dry run). */
  events: string[];
  error?: string;
}

export interface DiscoverySummary {
  /** Calls and chats Retell listed in the window. */
  listed: number;
  /** Of them, ones callsync already had a session for. */
  known: number;
  /** Sessions created now (on a dry run: that would be). */
  imported: number;
  failed: number;
  /** Start (ms) of the earliest call or chat that failed to import, so a watermark stays before it. */
  earliestFailureMs: number | null;
}

/** What a listed call says happened: the events that create its session. */
export function discoveredCallEvents(call: ProviderCall): string[] {
  if (isCallFinished(call.call_status)) return call.call_analysis ? ['call_ended', 'call_analyzed'] : ['call_ended'];
  if (call.call_status === 'ongoing') return ['call_started'];
  return []; // registered: not started yet; the next pass lists it again
}

export function discoveredChatEvents(chat: ProviderChat): string[] {
  if (isChatFinished(chat.chat_status)) return chat.chat_analysis ? ['chat_ended', 'chat_analyzed'] : ['chat_ended'];
  return ['chat_started'];
}

/**
 * A listed call as get-call has it, when it is finished: the listing omits `transcript`,
 * `transcript_object`, `transcript_with_tool_calls` and `scrubbed_transcript_with_tool_calls`. An
 * ongoing call gets no transcript yet either way; a call get-call no longer finds keeps its listing.
 */
export async function completeListedCall(retell: ProviderApi, listed: ProviderCall): Promise<ProviderCall> {
  if (!isCallFinished(listed.call_status)) return listed;
  const r = await retell.getCall(listed.call_id);
  return r.found ? r.call : listed;
}

export interface DiscoverOptions {
  /** Calls and chats that started in [sinceMs, untilMs). */
  sinceMs: number;
  untilMs: number;
  kinds?: readonly ('calls' | 'chats')[];
  dryRun?: boolean;
  onFound?: (found: DiscoveryFound) => void;
  /** After each listed page and each import: done of total so far. */
  onProgress?: (done: number, total: number) => void;
}

interface DiscoveryDeps {
  db: Db;
  retell: ProviderApi;
  handlers: HandlerRegistry;
  enqueueForwards?: (heads: ForwardHead[]) => Promise<void>;
}

/** What differs between discovering calls and chats: the listing, the ids, the events, the apply. */
interface ListedKind<T> {
  subject: 'call' | 'chat';
  table: 'calls' | 'chats';
  list?: (sinceMs: number, untilMs: number, onPage: (page: T[]) => void) => Promise<T[]>;
  idOf(item: T): string;
  eventsOf(item: T): string[];
  apply(deps: DiscoveryDeps, item: T, events: string[]): Promise<void>;
}

const CALLS: ListedKind<ProviderCall> = {
  subject: 'call',
  table: 'calls',
  idOf: (c) => c.call_id,
  eventsOf: discoveredCallEvents,
  async apply(deps, listed, events) {
    const call = await completeListedCall(deps.retell, listed);
    // get-call may know more than the listing did (its analysis, say).
    const now = discoveredCallEvents(call);
    await applyFromProvider(
      deps.db,
      { kind: 'call', call },
      now.length ? now : events,
      deps.handlers,
      deps.enqueueForwards,
    );
  },
};

const CHATS: ListedKind<ProviderChat> = {
  subject: 'chat',
  table: 'chats',
  idOf: (c) => c.chat_id,
  eventsOf: discoveredChatEvents,
  apply: (deps, chat, events) =>
    applyFromProvider(deps.db, { kind: 'chat', chat }, events, deps.handlers, deps.enqueueForwards),
};

/** The summary being built, and progress told as it grows. */
class DiscoveryProgress {
  readonly summary: DiscoverySummary = { listed: 0, known: 0, imported: 0, failed: 0, earliestFailureMs: null };
  private done = 0;

  constructor(private readonly onProgress?: (done: number, total: number) => void) {}

  listed(n: number): void {
    this.summary.listed += n;
    this.tell();
  }

  handled(): void {
    this.done += 1;
    this.tell();
  }

  failedAt(startMs: number | null): void {
    this.summary.failed += 1;
    if (startMs !== null) this.summary.earliestFailureMs = Math.min(this.summary.earliestFailureMs ?? startMs, startMs);
  }

  private tell(): void {
    this.onProgress?.(this.done, this.summary.listed);
  }
}

async function importListed<T extends { start_timestamp?: number | null }>(
  deps: DiscoveryDeps,
  kind: ListedKind<T>,
  items: readonly T[],
  options: DiscoverOptions,
  progress: DiscoveryProgress,
): Promise<void> {
  for (let i = 0; i < items.length; i += 1000) {
    const page = items.slice(i, i + 1000);
    const known = await findKnownSessions(deps.db, kind.table, page.map(kind.idOf));
    for (const item of page) {
      const id = kind.idOf(item);
      const events = known.has(id) ? [] : kind.eventsOf(item);
      if (known.has(id)) progress.summary.known += 1;
      // Known, or registered and not started yet (the next pass lists it again): nothing to do.
      if (events.length) {
        try {
          if (!options.dryRun) await kind.apply(deps, item, events);
          progress.summary.imported += 1;
          options.onFound?.({ subject: kind.subject, id, events: options.dryRun ? [] : events });
        } catch (err) {
          // Counted and reported; the watermark stays before it, so the next pass tries it again.
          progress.failedAt(item.start_timestamp ?? null);
          options.onFound?.({ subject: kind.subject, id, events, error: errorText(err) });
        }
      }
      progress.handled();
    }
  }
}

async function discoverKind<T extends { start_timestamp?: number | null }>(
  deps: DiscoveryDeps,
  kind: ListedKind<T>,
  options: DiscoverOptions,
  progress: DiscoveryProgress,
): Promise<void> {
  if (!kind.list) return;
  const items = await kind.list(options.sinceMs, options.untilMs, (p) => progress.listed(p.length));
  await importListed(deps, kind, items, options, progress);
}

export async function discoverMissed(deps: DiscoveryDeps, options: DiscoverOptions): Promise<DiscoverySummary> {
  const kinds = options.kinds ?? ['calls', 'chats'];
  const progress = new DiscoveryProgress(options.onProgress);
  const { retell } = deps;
  if (kinds.includes('calls'))
    await discoverKind(deps, { ...CALLS, list: retell.listCalls?.bind(retell) }, options, progress);
  if (kinds.includes('chats'))
    await discoverKind(deps, { ...CHATS, list: retell.listChats?.bind(retell) }, options, progress);
  return progress.summary;
}

/** The first discovery (no watermark yet) looks back this far; `make backfill` imports older history. */
const FIRST_DISCOVERY_WINDOW_MS = 3600_000;
/** Each discovery lists a little before the watermark: a call registered late still gets listed. */
const DISCOVERY_OVERLAP_MS = 5 * 60_000;

export interface WatermarkDiscovery {
  kind: 'calls' | 'chats';
  /** What was imported (or failed to import); null when the listing itself failed. */
  summary: DiscoverySummary | null;
  /** Why the step failed: the listing, or moving the watermark. */
  error?: string;
}

/**
 * Discovery as reconciliation runs it: per kind, list what started since the kind's watermark (a
 * little before it), import what callsync never heard of, and move the watermark up to `now`, or to
 * just before the earliest call that failed to import, so it is listed again. A listing that fails
 * (Retell down) leaves the watermark, so the next pass lists the same window again.
 */
export async function discoverSinceWatermarks(
  deps: DiscoveryDeps,
  options: { now: Date; dryRun?: boolean; onFound?: (found: DiscoveryFound) => void },
): Promise<WatermarkDiscovery[]> {
  const untilMs = options.now.getTime();
  const results: WatermarkDiscovery[] = [];
  for (const kind of ['calls', 'chats'] as const) {
    if (kind === 'calls' ? !deps.retell.listCalls : !deps.retell.listChats) continue;
    const watermark = await findDiscoveryWatermark(deps.db, kind);
    const sinceMs = (watermark ?? untilMs - FIRST_DISCOVERY_WINDOW_MS) - DISCOVERY_OVERLAP_MS;
    let summary: DiscoverySummary | null = null;
    try {
      summary = await discoverMissed(deps, {
        sinceMs,
        untilMs,
        kinds: [kind],
        dryRun: options.dryRun,
        onFound: options.onFound,
      });
      if (!options.dryRun)
        await advanceDiscoveryWatermark(deps.db, kind, Math.min(untilMs, summary.earliestFailureMs ?? untilMs));
      results.push({ kind, summary });
    } catch (err) {
      results.push({ kind, summary, error: errorText(err) });
    }
  }
  return results;
}
