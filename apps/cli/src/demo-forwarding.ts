import { type Db } from '@callsync/db';
import { findDeliveriesOf, removeDestination, type ForwardDelivery } from '@callsync/db/forward';
import { createDestination, type SecretKeyring } from '@callsync/domain';
import { ForwardReceiver } from '@callsync/fake-receiver';
import { waitUntil } from '@callsync/runtime';

/** Events the demo's receiver asks for. */
const DEMO_EVENTS = ['call_ended', 'call_analyzed', 'chat_analyzed'];

/**
 * `make demo`'s forwarding part: a receiver on loopback (a real HTTP server verifying signatures with
 * the standardwebhooks library, as a team's endpoint would) added as a destination for the run, then
 * removed, so nothing is left retrying towards a receiver that exited with the demo.
 */
export class DemoForwarding {
  private constructor(
    private readonly db: Db,
    private readonly receiver: ForwardReceiver,
    readonly destinationId: string,
  ) {}

  /**
   * `keys`: the keyring the worker decrypts the secret with; default CALLSYNC_SECRET_KEY of the
   * environment `make demo` runs in (scripts/local-env.sh gives it the one `make up` uses).
   */
  static async start(db: Db, keys: SecretKeyring): Promise<DemoForwarding> {
    const receiver = await new ForwardReceiver({ secrets: [] }).start();
    const { destination, secret } = await createDestination(db, keys, {
      url: receiver.url,
      events: DEMO_EVENTS,
      // The receiver listens on this machine, over plain http.
      allowPrivate: true,
      description: 'make demo (removed when it ends)',
    });
    receiver.secrets = [secret];
    console.log(
      `forwarding ${DEMO_EVENTS.join(', ')} to a local receiver at ${receiver.url} (destination ${destination.id})\n`,
    );
    return new DemoForwarding(db, receiver, destination.id);
  }

  /** Wait for the subjects' deliveries to finish, then print what the receiver got and verified. */
  async report(subjects: readonly string[], timeoutMs = 30_000): Promise<boolean> {
    const read = async () =>
      (await Promise.all(subjects.map((s) => findDeliveriesOf(this.db, s))))
        .flat()
        .filter((d) => d.destination_id === this.destinationId);
    const finished = (rows: ForwardDelivery[]) => rows.every((r) => r.status !== 'pending' && r.status !== 'held');
    const rows =
      (await waitUntil(async () => ((r) => (finished(r) ? r : undefined))(await read()), { timeoutMs })) ??
      (await read());
    console.log('\nforwarded to the local receiver (verified with standardwebhooks)');
    const byId = new Map(this.receiver.received.map((m) => [m.id, m]));
    console.table(
      rows.map((r) => {
        const m = byId.get(r.message_id);
        return {
          'webhook-id': r.message_id,
          event: r.event_type,
          subject: r.subject,
          status: r.status,
          attempts: r.attempts,
          received: m ? `${m.body.length} bytes` : '-',
          signature: m ? (m.verified ? 'verified' : `NOT verified: ${m.error}`) : '-',
        };
      }),
    );
    const ok = finished(rows) && rows.every((r) => r.status === 'delivered' && byId.get(r.message_id)?.verified);
    if (!ok) console.error('some deliveries did not arrive verified: is the worker running (make up)?');
    return ok;
  }

  async stop(): Promise<void> {
    await removeDestination(this.db, this.destinationId);
    await this.receiver.close();
  }
}
