import { findKnownSessions, type Db, type ForwardHead } from '@callsync/db';
import { isChatFinished, isFinished, type ApiCall, type ApiChat, type CallLookup } from '@callsync/retell';
import type { HandlerRegistry } from '../handlers';
import { applyFromRetell } from './apply-from-retell';

/*
 * Discovery: calls and chats that exist at Retell but that callsync never heard of (every webhook
 * lost, or from before callsync ran). They are listed by start time and created through the same
 * handlers as a webhook (source = reconcile, see applyFromRetell). v3 list items leave out every
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
export function discoveredCallEvents(call: ApiCall): string[] {
  if (isFinished(call.call_status)) return call.call_analysis ? ['call_ended', 'call_analyzed'] : ['call_ended'];
  if (call.call_status === 'ongoing') return ['call_started'];
  return []; // registered: not started yet; the next pass lists it again
}

export function discoveredChatEvents(chat: ApiChat): string[] {
  if (isChatFinished(chat.chat_status)) return chat.chat_analysis ? ['chat_ended', 'chat_analyzed'] : ['chat_ended'];
  return ['chat_started'];
}

/**
 * A listed call as get-call has it, when it is finished: the listing omits `transcript`,
 * `transcript_object`, `transcript_with_tool_calls` and `scrubbed_transcript_with_tool_calls`. An
 * ongoing call gets no transcript yet either way; a call get-call no longer finds keeps its listing.
 */
export async function completeListedCall(retell: CallLookup, listed: ApiCall): Promise<ApiCall> {
  if (!isFinished(listed.call_status)) return listed;
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

export async function discoverMissed(
  deps: {
    db: Db;
    retell: CallLookup;
    handlers: HandlerRegistry;
    enqueueForwards?: (heads: ForwardHead[]) => Promise<void>;
  },
  options: DiscoverOptions,
): Promise<DiscoverySummary> {
  const { db, retell, handlers } = deps;
  const kinds = options.kinds ?? ['calls', 'chats'];
  const summary: DiscoverySummary = { listed: 0, known: 0, imported: 0, failed: 0, earliestFailureMs: null };
  let done = 0;
  const progress = () => options.onProgress?.(done, summary.listed);

  const importAll = async <T extends { start_timestamp?: number | null }>(
    subject: 'call' | 'chat',
    items: T[],
    idOf: (item: T) => string,
    eventsOf: (item: T) => string[],
    apply: (item: T, events: string[]) => Promise<void>,
  ) => {
    for (let i = 0; i < items.length; i += 1000) {
      const page = items.slice(i, i + 1000);
      const known = await findKnownSessions(db, subject === 'call' ? 'calls' : 'chats', page.map(idOf));
      for (const item of page) {
        done += 1;
        if (known.has(idOf(item))) {
          summary.known += 1;
          progress();
          continue;
        }
        const events = eventsOf(item);
        if (events.length === 0) {
          progress();
          continue;
        }
        try {
          if (!options.dryRun) await apply(item, events);
          summary.imported += 1;
          options.onFound?.({ subject, id: idOf(item), events: options.dryRun ? [] : events });
        } catch (err) {
          summary.failed += 1;
          const start = item.start_timestamp ?? null;
          if (start !== null) summary.earliestFailureMs = Math.min(summary.earliestFailureMs ?? start, start);
          options.onFound?.({
            subject,
            id: idOf(item),
            events,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        progress();
      }
    }
  };

  if (kinds.includes('calls') && retell.listCalls) {
    const calls = await retell.listCalls(options.sinceMs, options.untilMs, (p) => {
      summary.listed += p.length;
      progress();
    });
    await importAll(
      'call',
      calls,
      (c) => c.call_id,
      discoveredCallEvents,
      async (listed, events) => {
        const call = await completeListedCall(retell, listed);
        // get-call may know more than the listing did (its analysis, say).
        const now = discoveredCallEvents(call);
        await applyFromRetell(db, { kind: 'call', call }, now.length ? now : events, handlers, deps.enqueueForwards);
      },
    );
  }
  if (kinds.includes('chats') && retell.listChats) {
    const chats = await retell.listChats(options.sinceMs, options.untilMs, (p) => {
      summary.listed += p.length;
      progress();
    });
    await importAll(
      'chat',
      chats,
      (c) => c.chat_id,
      discoveredChatEvents,
      (chat, events) => applyFromRetell(db, { kind: 'chat', chat }, events, handlers, deps.enqueueForwards),
    );
  }
  return summary;
}
