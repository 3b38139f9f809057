import type { Documented, RetellCallListItem } from '@callsync/retell';
import type { FakeCall } from './fake-retell';

/*
 * Retell's list endpoints as the fake serves them: the start-time filter, and pages of
 * `{items, has_more, pagination_key}` whose key is the next offset.
 */

/**
 * A call as v3 list-calls lists it (retell-sdk `CallListResponse` items): without `transcript`,
 * `transcript_object`, `transcript_with_tool_calls` and `scrubbed_transcript_with_tool_calls`. Chats
 * are listed whole (`ChatListResponse.Item` is a `ChatResponse`).
 */
export function listedCall(call: FakeCall): Documented<RetellCallListItem> & { call_id: string } {
  const {
    transcript: _t,
    transcript_object: _o,
    transcript_with_tool_calls: _w,
    scrubbed_transcript_with_tool_calls: _s,
    ...item
  } = call;
  return item;
}

/**
 * list-calls / list-chats: the items whose start_timestamp passes the body's filter (a number filter
 * with op ge/gt/le/lt, or a range with op bt), oldest first.
 */
export function startedIn<T extends { start_timestamp?: number | null }>(items: T[], body: unknown): T[] {
  const f = (body as { filter_criteria?: { start_timestamp?: { op?: string; value?: unknown } } } | undefined)
    ?.filter_criteria?.start_timestamp;
  const passes = (t: number) => {
    if (!f) return true;
    const v = f.value;
    if (f.op === 'bt' && Array.isArray(v)) return t >= Number(v[0]) && t <= Number(v[1]);
    if (f.op === 'ge') return t >= Number(v);
    if (f.op === 'gt') return t > Number(v);
    if (f.op === 'le') return t <= Number(v);
    if (f.op === 'lt') return t < Number(v);
    return true;
  };
  return items
    .filter((i) => typeof i.start_timestamp === 'number' && passes(i.start_timestamp))
    .sort((a, b) => (a.start_timestamp as number) - (b.start_timestamp as number))
    .map((item) => ({ ...item }));
}

/** One page: `limit` (default and at most 1000) items from the offset `pagination_key`. */
export function pageOf(
  items: unknown[],
  paging: Record<string, unknown>,
): { items: unknown[]; has_more: boolean; pagination_key?: string } {
  const limit = Math.max(1, Math.min(1000, Number(paging.limit ?? 1000) || 1000));
  const offset = Number(paging.pagination_key ?? 0) || 0;
  const more = offset + limit < items.length;
  return {
    items: items.slice(offset, offset + limit),
    has_more: more,
    ...(more ? { pagination_key: String(offset + limit) } : {}),
  };
}
