import { parseArgs } from 'node:util';
import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { waitUntil } from '@callsync/runtime';
import { createDb } from '@callsync/db';
import { type WebhookEventStatus } from '@callsync/db/events';
import {
  findDeliveriesToReplay,
  findDestination,
  markDeliveriesForReplay,
  type ForwardStatus,
} from '@callsync/db/forward';
import { findCompany } from '@callsync/db/tenants';
import { findEventOutcomes } from '@callsync/db/ops';
import { findReplayCandidates, replayEvents } from '@callsync/domain';
import {
  createQueues,
  createRedisConnection,
  ensureForwardJobs,
  ensureWebhookJobs,
  webhookJobData,
} from '@callsync/queue';
import { parseDuration } from '../duration';

export const REPLAY_USAGE = `usage: make replay [ARGS="..."]

Re-run stored events from Postgres (default: failed ones from the last 24 h). Works after Redis
lost or pruned their jobs. Each replayed row is marked (replay_count + 1, last_replayed_at; its
source stays) and gets a fresh job; a running worker applies it. Rows whose payload retention
removed (older than RETENTION_DAYS) are refused: there is nothing left to apply.

  --status <s>     failed (default), pending, processed or skipped; repeatable
  --event <type>   only this event type; repeatable
  --since <d>      received within this long (default 24h; e.g. 2h, 7d)
  --call-id <id>   only this call (or chat: its chat id); repeatable (and no time window unless --since is given)
  --company <c>    only events of this company's calls and chats (its id or name; unmapped: of none)
  --limit <n>      at most this many rows (default 10000)
  --destination <id>  instead of events, send this forwarding destination's deliveries again
                   (default status: delivered and failed; their webhook-id stays the same)
  --dry-run        list what would be replayed, change nothing
  --wait           wait for the worker to finish them and print the outcome`;

const STATUSES: readonly WebhookEventStatus[] = ['failed', 'pending', 'processed', 'skipped'];

const DELIVERY_STATUSES: readonly ForwardStatus[] = ['delivered', 'failed', 'cancelled'];

/** `make replay --destination ID`: send a destination's deliveries again, in order per call. */
async function replayDeliveries(
  config: Config,
  values: { destination?: string; status?: string[]; since?: string; limit: string; 'dry-run': boolean },
): Promise<number> {
  const statuses = (values.status ?? ['delivered', 'failed']) as ForwardStatus[];
  const bad = statuses.find((s) => !DELIVERY_STATUSES.includes(s));
  if (bad) throw new Error(`--status: "${bad}" is not one of ${DELIVERY_STATUSES.join(', ')} (for --destination)`);
  const sinceText = values.since ?? '24h';
  const since = new Date(Date.now() - parseDuration(sinceText, '--since') * 60_000);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new Error(`--limit: "${values.limit}" is not a positive whole number`);
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-replay' });
  try {
    const destination = await findDestination(db, values.destination!);
    if (!destination || destination.state === 'removed')
      throw new Error(`--destination: no destination ${values.destination} (make destinations ARGS=list shows them)`);
    const rows = await findDeliveriesToReplay(db, { destinationId: destination.id, since, statuses, limit });
    console.log(
      `${rows.length} deliver${rows.length === 1 ? 'y' : 'ies'} to send again to ${destination.url} (status ${statuses.join('/')}, last ${sinceText})${rows.length === limit ? ` - stopped at --limit ${limit}` : ''}`,
    );
    for (const r of rows)
      console.log(
        `  #${r.id} ${r.event_type} ${r.subject} ${r.status} attempts ${r.attempts}${r.last_error ? ` - ${r.last_error}` : ''}`,
      );
    if (values['dry-run'] || rows.length === 0) return 0;
    const { marked, heads } = await markDeliveriesForReplay(
      db,
      destination.id,
      rows.map((r) => r.id),
    );
    const connection = createRedisConnection(config.redis, { name: 'callsync-replay' });
    const queues = createQueues(connection, config.redis.prefix, config.worker);
    try {
      await ensureForwardJobs(queues.forwards, heads);
    } finally {
      await queues.close();
      connection.disconnect();
    }
    console.log(
      `${marked} deliver${marked === 1 ? 'y' : 'ies'} queued again${destination.state === 'paused' ? ' (held: the destination is paused; resume it to send)' : ''}; a running worker sends them`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}

/** `make replay`: re-run chosen events from Postgres. */
export async function replayCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      status: { type: 'string', multiple: true },
      event: { type: 'string', multiple: true },
      since: { type: 'string' },
      'call-id': { type: 'string', multiple: true },
      company: { type: 'string' },
      destination: { type: 'string' },
      limit: { type: 'string', default: '10000' },
      'dry-run': { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(REPLAY_USAGE);
    return 0;
  }
  if (values.destination !== undefined) return replayDeliveries(config, values);
  const statuses = (values.status ?? ['failed']) as WebhookEventStatus[];
  const bad = statuses.find((s) => !STATUSES.includes(s));
  if (bad) throw new Error(`--status: "${bad}" is not one of ${STATUSES.join(', ')}`);
  const callIds = values['call-id'] ?? [];
  const sinceText = values.since ?? (callIds.length ? undefined : '24h');
  const since = sinceText ? new Date(Date.now() - parseDuration(sinceText, '--since') * 60_000) : undefined;
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new Error(`--limit: "${values.limit}" is not a positive whole number`);

  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-replay' });
  try {
    let companyId: string | undefined;
    if (values.company !== undefined) {
      companyId = values.company === 'unmapped' ? 'unmapped' : (await findCompany(db, values.company))?.id;
      if (!companyId)
        throw new Error(`--company: unknown company "${values.company}" (make tenants ARGS=list shows them)`);
    }
    const { rows, pruned, atLimit } = await findReplayCandidates(db, {
      statuses,
      eventTypes: values.event,
      callIds,
      companyId,
      since,
      limit,
    });
    const scope = [
      `status ${statuses.join('/')}`,
      ...(values.event ? [`event ${values.event.join('/')}`] : []),
      ...(callIds.length ? [`call ${callIds.join('/')}`] : []),
      ...(values.company !== undefined ? [`company ${values.company}`] : []),
      ...(sinceText ? [`last ${sinceText}`] : []),
    ].join(', ');
    console.log(`${rows.length} event(s) to replay (${scope})${atLimit ? ` - stopped at --limit ${limit}` : ''}`);
    for (const r of rows)
      console.log(
        `  #${r.id} ${r.event_type} ${r.call_id ?? r.chat_id ?? '(no call or chat)'} ${r.status} attempts ${r.attempts}${r.error ? ` - ${r.error}` : ''}`,
      );
    if (pruned)
      console.log(
        `${pruned} event(s) refused: retention removed their payload (older than RETENTION_DAYS), so there is nothing to apply again`,
      );
    if (values['dry-run']) return 0;
    // Refused rows make the exit code 1, so a script notices that not everything it asked for ran.
    const refused = pruned ? 1 : 0;
    if (rows.length === 0) return refused;

    const connection = createRedisConnection(config.redis, { name: 'callsync-replay' });
    const queues = createQueues(connection, config.redis.prefix, config.worker);
    try {
      const { marked, jobs } = await replayEvents(db, rows, statuses, (replayed) =>
        ensureWebhookJobs(queues.webhooks, replayed.map(webhookJobData)),
      );
      console.log(
        `replayed ${marked.length}: ${jobs.enqueued} new job(s), ${jobs.retried} finished job(s) retried, ${jobs.inFlight} already queued`,
      );
      if (marked.length < rows.length)
        console.log(`${rows.length - marked.length} row(s) changed status meanwhile and were left alone`);
      if (!values.wait) {
        console.log('a running worker applies them; `make stats` shows the result');
        return refused;
      }
      const applied = async () => {
        const rows = await findEventOutcomes(db, marked);
        return rows.some((r) => r.status === 'pending') ? undefined : rows;
      };
      const final =
        (await waitUntil(applied, { timeoutMs: 60_000, intervalMs: 250 })) ?? (await findEventOutcomes(db, marked));
      for (const r of final) console.log(`  #${r.id} ${r.status}${r.error ? ` - ${r.error}` : ''}`);
      const notDone = final.filter((r) => r.status !== 'processed' && r.status !== 'skipped');
      if (notDone.length)
        console.log(
          `${notDone.length} not applied${final.some((r) => r.status === 'pending') ? ' (still pending after 60 s: is a worker running?)' : ''}`,
        );
      return notDone.length ? 1 : refused;
    } finally {
      await queues.close();
      connection.disconnect();
    }
  } finally {
    await db.destroy();
  }
}
