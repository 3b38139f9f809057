import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { type Db } from '@callsync/db';
import {
  findDestination,
  listDestinations,
  pauseDestination,
  removeDestination,
  resumeDestination,
  type ForwardDestination,
  type PayloadMode,
} from '@callsync/db/forward';
import { findCompany } from '@callsync/db/tenants';
import {
  createDestination,
  DestinationError,
  FORWARDABLE_EVENTS,
  maskUrlCredentials,
  rotateSecret,
  SECRET_OVERLAP_HOURS,
  sendTestMessage,
} from '@callsync/domain';
import { createForwardQueue, createRedisConnection, ensureForwardJobs, type ForwardJobHead } from '@callsync/queue';
import { keyringOf } from '../secret-key';
import { runSubcommands, UsageError, type SubcommandValues } from '../subcommands';
import { table } from '../table';

export const DESTINATIONS_USAGE = `usage: make destinations ARGS="<subcommand> ..."

Forward applied events to the team's own HTTP endpoints, signed the Standard Webhooks way
(webhook-id, webhook-timestamp, webhook-signature), retried for about a day, in order per call.

  add URL --events E1,E2 [--company C] [--mode raw|session] [--rate N] [--concurrency N]
          [--breaker N] [--fail-4xx] [--allow-link-local] [--allow-private] [--description TEXT]
                     add a destination and print its signing secret (shown only this once).
                     URL: https to a public address. --allow-private: private or reserved
                     addresses (10/8, 192.168/16, loopback, fc00::/7, ...) and plain http too,
                     checked at every DNS resolution (in development, this machine needs no flag).
                     --allow-link-local: link-local and cloud metadata addresses. --company: its id or exact name (default:
                     every company's events). --mode raw (default): Retell's body as received;
                     session: callsync's session row after the event. --rate: requests per second
                     at most. --concurrency: deliveries in flight at once (default 4). Both limits
                     hold across every worker; a delivery over one waits in the queue.
                     --breaker: consecutive failures that open its circuit breaker (default 20,
                     0: never); an open breaker holds its deliveries and sends one probe after a
                     cool-down (FORWARD_BREAKER_COOLDOWN_MS, doubling up to 1 h): a 2xx closes it.
                     Every non-2xx is retried, but 410 (fails it and pauses the destination);
                     --fail-4xx: a 4xx (but 408, 429) fails at once.
  list               destinations, their state (active, breaker open, paused) and their deliveries
                     (pending, held, delivered, failed); credentials in URLs (a password, a token
                     in the query) show as ***
  pause ID           hold its deliveries (nothing is dropped) until resume; the breaker never ends it
  resume ID          send everything held, in order per call
  rotate-secret ID   a new secret; the old one also signs for ${SECRET_OVERLAP_HOURS} h
  test ID            send a signed test message now and print the answer
  remove ID          stop forwarding to it; its unsent deliveries are cancelled

Events: ${FORWARDABLE_EVENTS.join(', ')}.
make replay ARGS="--destination ID --since 2h" sends deliveries again.`;

async function destinationOrFail(db: Db, id: string | undefined): Promise<ForwardDestination> {
  if (!id) throw new UsageError('missing ID (make destinations ARGS=list shows them)');
  const d = await findDestination(db, id);
  if (!d || d.state === 'removed')
    throw new UsageError(`no destination ${id} (make destinations ARGS=list shows them)`);
  return d;
}

/** What `list` says of a destination's state: a breaker open probes by itself; a pause waits for resume. */
function stateOf(d: ForwardDestination): string {
  if (d.state !== 'paused') return d.state;
  if (d.paused_by === 'breaker')
    return `breaker open (${d.paused_reason ?? 'failures'}; next probe ${d.probe_at ? d.probe_at.toISOString() : 'soon'})`;
  return `paused until resume (${d.paused_reason ?? d.paused_by ?? 'by the operator'})`;
}

/**
 * Jobs for the chain heads a resume released; needs Redis. The breaker's former probe gets a job of
 * its own: its old one waits, delayed, for the probe time.
 */
async function enqueueHeads(config: Config, heads: readonly ForwardJobHead[], probe?: ForwardJobHead): Promise<void> {
  if (heads.length === 0 && !probe) return;
  const connection = createRedisConnection(config.redis, { name: 'callsync-destinations' });
  const queue = createForwardQueue(connection, config.redis.prefix);
  try {
    await ensureForwardJobs(queue, heads);
    if (probe)
      await queue.add(
        probe.event_type,
        { deliveryId: probe.id, destinationId: probe.destination_id, subject: probe.subject, event: probe.event_type },
        { jobId: `fwd-${probe.id}-resumed-${Date.now()}` },
      );
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function run(db: Db, config: Config, positionals: string[], values: SubcommandValues): Promise<number> {
  const [command, arg] = positionals;
  switch (command) {
    case 'add': {
      if (!arg)
        throw new UsageError(
          'missing URL: make destinations ARGS="add https://example.com/hook --events call_analyzed"',
        );
      if (typeof values.events !== 'string')
        throw new UsageError(`missing --events (any of ${FORWARDABLE_EVENTS.join(', ')})`);
      let companyId: string | null = null;
      if (typeof values.company === 'string') {
        const company = await findCompany(db, values.company);
        if (!company)
          throw new UsageError(`--company: unknown company "${values.company}" (make tenants ARGS=list shows them)`);
        companyId = company.id;
      }
      const mode = (values.mode ?? 'raw') as string;
      if (mode !== 'raw' && mode !== 'session') throw new UsageError(`--mode: "${mode}" is not raw or session`);
      const number = (flag: string) => {
        const v = values[flag];
        if (typeof v !== 'string') return undefined;
        if (!/^\d+$/.test(v)) throw new UsageError(`--${flag}: "${v}" is not a whole number`);
        return Number(v);
      };
      const { destination, secret } = await createDestination(db, keyringOf(config), {
        url: arg,
        events: values.events
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
        companyId,
        payloadMode: mode as PayloadMode,
        rateLimitPerSecond: number('rate') ?? null,
        maxInFlight: number('concurrency'),
        fail4xx: values['fail-4xx'] === true,
        breakerThreshold: number('breaker'),
        allowLinkLocal: values['allow-link-local'] === true,
        allowPrivate: values['allow-private'] === true,
        development: config.env === 'development',
        description: typeof values.description === 'string' ? values.description : null,
      });
      console.log(`destination ${destination.id} added: ${maskUrlCredentials(destination.url)}`);
      console.log(
        `  events ${destination.events.join(', ')}; ${companyId ? `company ${companyId}` : 'every company'}; mode ${destination.payload_mode}`,
      );
      console.log(`  signing secret (shown only now; verify with any Standard Webhooks library):\n  ${secret}`);
      return 0;
    }
    case 'list': {
      const rows = await listDestinations(db, { all: values.all === true });
      console.log(
        table(
          rows.map((d) => ({
            id: d.id,
            url: maskUrlCredentials(d.url),
            events: d.events.join(','),
            company: d.company_id ?? 'all',
            mode: d.payload_mode,
            state: stateOf(d),
            limits: `${d.rate_limit_per_second ? `${d.rate_limit_per_second}/s, ` : ''}${d.max_in_flight} at once${d.fail_4xx ? ', 4xx fails' : ''}`,
            pending: d.pending,
            held: d.held,
            delivered: d.delivered,
            failed: d.failed,
            oldest_unsent: d.oldest_pending_at ? d.oldest_pending_at.toISOString() : '',
          })),
          [
            'id',
            'url',
            'events',
            'company',
            'mode',
            'state',
            'limits',
            'pending',
            'held',
            'delivered',
            'failed',
            'oldest_unsent',
          ],
        ),
      );
      return 0;
    }
    case 'pause': {
      const d = await destinationOrFail(db, arg);
      const held = await pauseDestination(db, d.id, 'paused by the operator until resume');
      console.log(
        `destination ${d.id} paused; ${held} pending deliveries held (make destinations ARGS="resume ${d.id}" sends them)`,
      );
      return 0;
    }
    case 'resume': {
      const d = await destinationOrFail(db, arg);
      const { released, heads, probe } = await resumeDestination(db, d.id);
      await enqueueHeads(config, heads, probe);
      console.log(`destination ${d.id} active; ${released} held deliveries released, sending in order per call`);
      return 0;
    }
    case 'rotate-secret': {
      const d = await destinationOrFail(db, arg);
      const rotated = (await rotateSecret(db, keyringOf(config), d.id))!;
      console.log(
        `destination ${d.id}: new signing secret (shown only now); ${
          rotated.overlapHours > 0
            ? `the old one also signs for ${rotated.overlapHours} h:`
            : 'the old one cannot be read (its key is gone from CALLSYNC_SECRET_KEY and CALLSYNC_SECRET_KEY_PREVIOUS) and no longer signs:'
        }`,
      );
      console.log(`  ${rotated.secret}`);
      return 0;
    }
    case 'test': {
      const d = await destinationOrFail(db, arg);
      const r = await sendTestMessage(keyringOf(config), d, config.forwarding.timeoutMs);
      const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
      console.log(
        `${maskUrlCredentials(d.url)}: ${r.statusCode ?? 'no answer'} in ${Math.round(r.latencyMs)} ms${r.error ? ` - ${r.error}` : ''}${
          !ok && r.excerpt ? `\n  ${r.excerpt.slice(0, 300)}` : ''
        }`,
      );
      return ok ? 0 : 1;
    }
    case 'remove': {
      const d = await destinationOrFail(db, arg);
      const cancelled = await removeDestination(db, d.id);
      console.log(`destination ${d.id} removed; ${cancelled} unsent deliveries cancelled`);
      return 0;
    }
  }
  throw new UsageError(command ? `unknown subcommand: ${command}` : 'missing subcommand');
}

/** `make destinations`: where applied events are forwarded. */
export async function destinationsCommand(config: Config, argv: string[]): Promise<number> {
  return runSubcommands(config, argv, {
    usage: DESTINATIONS_USAGE,
    applicationName: 'callsync-destinations',
    options: {
      events: { type: 'string' },
      company: { type: 'string' },
      mode: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      'fail-4xx': { type: 'boolean', default: false },
      breaker: { type: 'string' },
      'allow-link-local': { type: 'boolean', default: false },
      'allow-private': { type: 'boolean', default: false },
      description: { type: 'string' },
      all: { type: 'boolean', default: false },
    },
    run,
    explain: (err) => (err instanceof DestinationError ? { code: 2, message: err.message } : undefined),
  });
}
