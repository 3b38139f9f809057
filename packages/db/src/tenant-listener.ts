import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './database';
import { TENANTS_CHANNEL } from './tenant.repository';

/** NOTIFY channel on which an ingress announces a call_started it acknowledged (live prefetch). */
export const CALLS_CHANNEL = 'callsync_calls';

/**
 * NOTIFY channel on which `make forget` announces an erasure: every process drops the callers it
 * holds in memory (the live routes' prefetched contexts), since one of them may be the erased caller.
 * The payload is empty: which caller was erased is itself personal data.
 */
export const ERASURES_CHANNEL = 'callsync_erasures';

/** Tell every listening process that personal data was erased (delivered when `db`'s transaction commits). */
export async function notifyErasure(db: Db): Promise<void> {
  await sql`select pg_notify(${ERASURES_CHANNEL}, '')`.execute(db);
}

/** The parties of a call that started: what the live routes prefetch its caller's context by. */
export interface StartedCall {
  call_id: string;
  agent_id?: string | null;
  direction?: string | null;
  from_number?: string | null;
  to_number?: string | null;
}

/**
 * Tell the live routes (LISTEN callsync_calls) that calls started, so they resolve their callers'
 * context before their first function: one statement for many. The payloads stay inside Postgres;
 * nothing logs them.
 */
export async function notifyCallsStarted(db: Db, calls: readonly StartedCall[]): Promise<void> {
  const payloads = calls
    .map((call) =>
      JSON.stringify({
        call_id: call.call_id,
        agent_id: call.agent_id ?? null,
        direction: call.direction ?? null,
        from_number: call.from_number ?? null,
        to_number: call.to_number ?? null,
      }),
    )
    // NOTIFY payloads are limited to 8000 bytes; ids and numbers are far below, but never fail on it.
    .filter((p) => p.length < 7900);
  if (payloads.length)
    await sql`select pg_notify(${CALLS_CHANNEL}, p) from unnest(${payloads}::text[]) as p`.execute(db);
}

/** notifyCallsStarted for one call. */
export async function notifyCallStarted(db: Db, call: StartedCall): Promise<void> {
  await notifyCallsStarted(db, [call]);
}

export interface TenantListener {
  close(): Promise<void>;
}

/**
 * LISTEN on callsync_tenants with a connection of its own and call `onChange` for every mapping
 * change. A lost connection is re-established (after 1 s, then up to 30 s apart) and `onChange` is
 * called again on reconnect, since changes made meanwhile were not heard.
 */
export function listenForTenantChanges(
  url: string,
  onChange: () => void,
  onError: (err: Error) => void = () => {},
  /** Also LISTEN on callsync_calls and hand each started call here (the live routes' prefetch). */
  onCallStarted?: (call: StartedCall) => void,
  /**
   * Also LISTEN on callsync_erasures: called on every erasure, and on every (re)connect, since an
   * erasure made meanwhile was not heard.
   */
  onErased?: () => void,
): TenantListener {
  let client: pg.Client | undefined;
  let closed = false;
  let delay = 1000;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, application_name: 'callsync-tenant-listener' });
    client = c;
    c.on('notification', (n) => {
      if (n.channel === TENANTS_CHANNEL) onChange();
      else if (n.channel === ERASURES_CHANNEL) onErased?.();
      else if (n.channel === CALLS_CHANNEL && onCallStarted && n.payload) {
        try {
          onCallStarted(JSON.parse(n.payload) as StartedCall);
        } catch {
          // Not ours or malformed: a prefetch is an optimisation, the function reads Postgres instead.
        }
      }
    });
    c.on('error', (err) => {
      onError(err);
      retry(c);
    });
    c.on('end', () => retry(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${TENANTS_CHANNEL}`);
      if (onCallStarted) await c.query(`LISTEN ${CALLS_CHANNEL}`);
      if (onErased) await c.query(`LISTEN ${ERASURES_CHANNEL}`);
      delay = 1000;
      onChange();
      onErased?.();
    } catch (err) {
      onError(err as Error);
      retry(c);
    }
  };
  const retry = (c: pg.Client) => {
    if (closed || client !== c || timer) return;
    client = undefined;
    c.end().catch(() => undefined);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 30_000);
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
