import { type Db } from '@callsync/db';
import { findDeliveriesTo, findDestination, forwardBacklog, type ForwardDelivery } from '@callsync/db/forward';
import { findAllWebhookEvents } from '@callsync/db/testing';
import { createDestination, type SecretKeyring } from '@callsync/domain';
import { ForwardReceiver } from '@callsync/fake-receiver';
import { waitUntil } from '@callsync/runtime';
import { rng } from './load';

/** What the flaky destination asks for: forwarded must equal applied for exactly these. */
export const FLAKY_EVENTS = ['call_ended', 'call_analyzed', 'chat_analyzed'];

export interface ForwardReport {
  /** Applied (processed) events of the filtered types. */
  applied: number;
  /** Deliveries delivered. */
  delivered: number;
  /** Applied events without a delivery, or with one not delivered. */
  missing: string[];
  /** Deliveries no applied event explains, or two for one event. */
  extra: string[];
  /** Answers the receiver gave: 500 (flaky), 503 (down), 2xx. */
  answered500: number;
  answered503: number;
  /** Sends of a webhook-id the receiver had already accepted (a worker killed before it recorded the answer). */
  duplicateSends: number;
  /** Requests whose signature did not verify. */
  unverified: number;
  /** Subjects whose deliveries first arrived out of order. */
  outOfOrder: string[];
  breakerTrips: number;
  /** Times the breaker closed by itself (a probe got through). */
  breakerCloses: number;
}

/**
 * A team's endpoint that is bad at its job: it answers 500 a third of the time (`failureRate`), and
 * 503 to everything for a while once (outage()). Its destination's circuit breaker trips while it is
 * down and, with nobody resuming it, must close by itself once a probe gets through.
 */
export class FlakyDestination {
  breakerTrips = 0;
  breakerCloses = 0;
  private watching = true;
  private watcher?: Promise<void>;

  private constructor(
    readonly receiver: ForwardReceiver,
    readonly destinationId: string,
    /** Shared with the receiver's answers. */
    private readonly state: { down: boolean },
  ) {}

  private get down(): boolean {
    return this.state.down;
  }

  /** `keys`: the keyring of the workers that will decrypt the destination's secret. */
  static async start(db: Db, keys: SecretKeyring, seed: number, failureRate = 1 / 3): Promise<FlakyDestination> {
    const random = rng(seed + 7);
    const state = { down: false };
    const receiver = await new ForwardReceiver({
      secrets: [],
      respond: (m) => {
        if (state.down) return 503;
        if (!m.verified) return 401;
        return random() < failureRate ? 500 : 204;
      },
    }).start();
    const { destination, secret } = await createDestination(db, keys, {
      url: receiver.url,
      events: FLAKY_EVENTS,
      // On this machine, over plain http.
      allowPrivate: true,
      // The default threshold (20): its outage (503 to everything) trips the breaker, which must then
      // close by itself, while its random 500s (1 in 3) never do. At 10, runs of failures tripped it
      // again and again as the backlog drained, and each failed probe doubled the cool-down.
      breakerThreshold: 20,
    });
    receiver.secrets = [secret];
    return new FlakyDestination(receiver, destination.id, state);
  }

  /**
   * Down (503 to everything) for `seconds`, and on until it has refused at least one delivery (at
   * most `seconds` more): an outage nobody sent to, behind a Postgres outage or a backlog, tests
   * nothing.
   */
  async outage(seconds: number, say: (line: string) => void): Promise<void> {
    if (seconds <= 0) return;
    say(`forwarding destination down (503) for ${seconds}s`);
    this.state.down = true;
    const refused = () => this.receiver.received.some((m) => m.status === 503);
    const until = Date.now() + 2 * seconds * 1000;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    while (!refused() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    this.state.down = false;
    say('forwarding destination back up');
  }

  /**
   * While the run lasts: watch the destination's circuit breaker open and close. Nobody resumes it:
   * it must close by itself, with a probe once the receiver is back (`root` and `env` are for a
   * command an operator would run; none is needed any more).
   */
  watchBreaker(db: Db, _root: string, _env: Record<string, string>, say: (line: string) => void): void {
    this.watcher = (async () => {
      let open = false;
      while (this.watching) {
        await new Promise((r) => setTimeout(r, 250));
        const d = await findDestination(db, this.destinationId).catch(() => undefined);
        if (!d) continue;
        if (!open && d.state === 'paused') {
          open = true;
          this.breakerTrips += 1;
          say(`destination ${d.id} paused (${d.paused_by}: ${d.paused_reason}); nobody resumes it`);
        } else if (open && d.state === 'active') {
          open = false;
          this.breakerCloses += 1;
          say(`destination ${d.id} active again: its breaker closed by itself`);
        }
      }
    })();
  }

  /** The breaker as watched: how often it opened and closed, and whether the destination is active. */
  async breakerSeen(db: Db): Promise<{ opened: number; closed: number; active: boolean }> {
    const d = await findDestination(db, this.destinationId);
    return { opened: this.breakerTrips, closed: this.breakerCloses, active: d?.state === 'active' };
  }

  /** Until nothing is pending or held for the destination (at most `timeoutMs`). */
  async drain(db: Db, timeoutMs: number): Promise<boolean> {
    const idle = async () => {
      const backlog = await forwardBacklog(db).catch(() => undefined);
      const mine = backlog?.find((b) => b.destination_id === this.destinationId);
      return mine && mine.pending + mine.held === 0 ? true : undefined;
    };
    return (await waitUntil(idle, { timeoutMs, intervalMs: 1000 })) ?? false;
  }

  async stop(): Promise<void> {
    this.watching = false;
    await this.watcher;
    await this.receiver.close();
  }

  /** Forwarded = applied, each once by webhook-id, verified, in order per call. */
  async verify(db: Db): Promise<ForwardReport> {
    const events = (await findAllWebhookEvents(db)).filter(
      (e) => e.status === 'processed' && FLAKY_EVENTS.includes(e.event_type) && (e.call_id ?? e.chat_id),
    );
    const deliveries = await findDeliveriesTo(db, this.destinationId);
    const report: ForwardReport = {
      applied: events.length,
      delivered: deliveries.filter((d) => d.status === 'delivered').length,
      missing: [],
      extra: [],
      answered500: this.receiver.received.filter((m) => m.status === 500).length,
      answered503: this.receiver.received.filter((m) => m.status === 503).length,
      duplicateSends: 0,
      unverified: this.receiver.received.filter((m) => !m.verified).length,
      outOfOrder: [],
      breakerTrips: this.breakerTrips,
      breakerCloses: this.breakerCloses,
    };
    const byEvent = new Map<string, ForwardDelivery[]>();
    for (const d of deliveries) byEvent.set(d.webhook_event_id, [...(byEvent.get(d.webhook_event_id) ?? []), d]);
    const accepted = this.receiver.byId();
    for (const e of events) {
      const ds = byEvent.get(e.id) ?? [];
      if (ds.length !== 1 || ds[0]!.status !== 'delivered' || !accepted.has(ds[0]!.message_id))
        report.missing.push(
          `${e.event_type} ${e.call_id ?? e.chat_id}: ${ds.map((d) => d.status).join(',') || 'no delivery'}`,
        );
      byEvent.delete(e.id);
    }
    for (const [eventId, ds] of byEvent) report.extra.push(`event row ${eventId}: ${ds.length} deliveries`);
    const known = new Set(deliveries.map((d) => d.message_id));
    for (const [id, ms] of accepted) {
      if (!known.has(id)) report.extra.push(`received ${id}, which no delivery has`);
      report.duplicateSends += ms.length - 1;
    }
    // First accepted arrival per webhook-id, in arrival order, must follow the deliveries' order per subject.
    const firstArrival = new Map<string, number>();
    this.receiver.received.forEach((m, i) => {
      if (m.status >= 200 && m.status < 300 && !firstArrival.has(m.id)) firstArrival.set(m.id, i);
    });
    const bySubject = new Map<string, ForwardDelivery[]>();
    for (const d of deliveries) bySubject.set(d.subject, [...(bySubject.get(d.subject) ?? []), d]);
    for (const [subject, ds] of bySubject) {
      const order = ds.map((d) => firstArrival.get(d.message_id) ?? Infinity);
      if (order.some((v, i) => i > 0 && v < order[i - 1]!)) report.outOfOrder.push(subject);
    }
    return report;
  }
}

export function forwardPassed(r: ForwardReport): boolean {
  return r.missing.length === 0 && r.extra.length === 0 && r.unverified === 0 && r.outOfOrder.length === 0;
}
