import { sql } from 'kysely';

/*
 * Where deliveries come from: applied webhook_events rows, each with every destination it matches
 * (event type, company), and what a delivery of them carries. Queueing a delivery and replacing an
 * unsent transcript with a longer one must agree on all three, so both build on these fragments.
 */

/**
 * The webhook-id of a delivery, derived from (event row, revision, destination): the event row by its
 * dedupe key, which a re-applied event keeps even when its row had to be written again (Postgres lost
 * the commit). Resends after a crash, replays and re-applies all carry it, so receivers can dedupe.
 */
export const messageId = sql<string>`'msg_' || left(encode(sha256(convert_to(
  e.provider || ':' || e.dedupe_key || ':' || coalesce(e.snapshot_size, 0) || ':' || d.id, 'UTF8')), 'hex'), 32)`;

/** The applied rows `ids` with each matching destination: the source of their deliveries. */
export const matching = (ids: readonly string[]) => sql`
    from webhook_events e
    left join retell_call_sessions cs on cs.call_id = e.call_id
    left join retell_chat_sessions ch on ch.chat_id = e.chat_id
    join forward_destinations d on d.state <> 'removed' and e.event_type = any(d.events)
      and (d.company_id is null or d.company_id = coalesce(cs.company_id, ch.company_id))
    where e.id = any(${[...ids]}::bigint[]) and coalesce(e.call_id, e.chat_id) is not null`;

/** Session mode's body: the session row as it stands now, inside the applying transaction. */
export const sessionBody = sql`case when d.payload_mode = 'session' then jsonb_build_object(
        'type', e.event_type,
        'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', coalesce(to_jsonb(cs), to_jsonb(ch))) end`;
