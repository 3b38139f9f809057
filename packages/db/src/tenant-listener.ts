import pg from 'pg';
import { TENANTS_CHANNEL } from './tenant.repository';

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
    });
    c.on('error', (err) => {
      onError(err);
      retry(c);
    });
    c.on('end', () => retry(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${TENANTS_CHANNEL}`);
      delay = 1000;
      onChange();
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
