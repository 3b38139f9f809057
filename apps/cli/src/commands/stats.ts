import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { createDb } from '@callsync/db';
import { findCompany } from '@callsync/db/tenants';
import { companySessions, processingRate, staleChats, staleSessions, type CompanySessions } from '@callsync/db/ops';
import { summarizeRetention } from '@callsync/db/privacy';
import { createQueues, createRedisConnection } from '@callsync/queue';
import { parseDuration } from '../duration';
import { printAgentStats } from './stats-agents';

export const STATS_USAGE = `usage: make stats [ARGS="..."]

The two monitoring reports in sql/reports/ and the queues: processing rate per event type (total, processed, pending,
failed, success %; call and chat events alike), sessions stuck in_progress, chats stuck ongoing, job counts per queue,
and what retention removed.

  --window <d>              processing-rate window (default 24h; e.g. 1h, 7d)
  --stale-after <d>         "stuck" means in_progress for longer than this (default 10m)
  --chat-stale-after <d>    a chat is stuck when ongoing for longer than this (default 60m: SMS chats run long)
  --company <id|name>       one company's events, sessions and chats (\`unmapped\`: those without a company);
                            queues and retention stay for the whole system
  --json               the same data as JSON, for scripts
  --agents                  instead: each agent's newest versions side by side (calls, success, sentiment, voicemail,
                            transfers, errors, duration, cost per minute, latency, tokens, functions), differences
                            beyond noise flagged; with --company, --versions <n> (default 2), --since <d> (default all)`;

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** `make stats`: what is pending, failing or stale, without writing SQL. */
export async function statsCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      window: { type: 'string', default: '24h' },
      'stale-after': { type: 'string', default: '10m' },
      'chat-stale-after': { type: 'string', default: '60m' },
      company: { type: 'string' },
      json: { type: 'boolean', default: false },
      agents: { type: 'boolean', default: false },
      versions: { type: 'string', default: '2' },
      since: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(STATS_USAGE);
    return 0;
  }
  const windowMinutes = parseDuration(values.window, '--window');
  const staleMinutes = parseDuration(values['stale-after'], '--stale-after');
  const chatStaleMinutes = parseDuration(values['chat-stale-after'], '--chat-stale-after');
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-stats' });
  const connection = createRedisConnection(config.redis, { name: 'callsync-stats', enableOfflineQueue: false });
  connection.on('error', () => {}); // reported below as "unavailable"
  const queues = createQueues(connection, config.redis.prefix, config.worker);
  try {
    let company: { id: string; name: string } | undefined;
    if (values.company !== undefined) {
      const found =
        values.company === 'unmapped' ? { id: 'unmapped', name: 'no company' } : await findCompany(db, values.company);
      if (!found) {
        console.error(`--company: unknown company "${values.company}" (make tenants ARGS=list shows them)`);
        return 2;
      }
      company = { id: found.id, name: found.name };
    }
    if (values.agents) {
      const versions = Number(values.versions);
      if (!Number.isInteger(versions) || versions < 1) {
        console.error(`--versions: "${values.versions}" is not a positive whole number`);
        return 2;
      }
      if (company?.id === 'unmapped') {
        console.error('--agents: give a company by id or name (calls without a company are not compared on their own)');
        return 2;
      }
      const since = values.since === undefined ? undefined : parseDuration(values.since, '--since');
      await printAgentStats(db, {
        companyId: company?.id,
        companyName: company?.name,
        from: since === undefined ? undefined : new Date(Date.now() - since * 60_000),
        versions,
        json: values.json,
      });
      return 0;
    }
    const window = `${windowMinutes} minutes`;
    const [rates, stale, chats, retention, sessions] = await Promise.all([
      processingRate(db, window, company?.id),
      staleSessions(db, staleMinutes, company?.id),
      staleChats(db, chatStaleMinutes, company?.id),
      summarizeRetention(db, new Date(Date.now() - windowMinutes * 60_000)),
      company ? companySessions(db, window, company.id) : Promise.resolve([] as CompanySessions[]),
    ]);
    if (connection.status !== 'ready')
      await Promise.race([once(connection, 'ready'), new Promise((r) => setTimeout(r, 2000).unref())]);
    const queueCounts: Record<string, Record<string, number> | 'unavailable'> = {};
    for (const q of queues.all) {
      queueCounts[q.name] = await q
        .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
        .catch(() => 'unavailable' as const);
    }
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            ...(company ? { company, sessions } : {}),
            window: values.window,
            processing_rate: rates,
            stale_after: values['stale-after'],
            stale_sessions: stale,
            chat_stale_after: values['chat-stale-after'],
            stale_chats: chats,
            queues: queueCounts,
            retention,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    if (company) {
      console.log(`Company ${company.name} (${company.id})\n`);
      console.log(`Calls and chats first seen, last ${values.window}`);
      console.log(
        sessions.length
          ? table(
              sessions.map((r) => ({ ...r })),
              ['kind', 'status', 'sessions'],
            )
          : '(none)',
      );
      console.log('');
    }
    console.log(`Processing rate per event type, last ${values.window}`);
    console.log(
      rates.length
        ? table(
            rates.map((r) => ({ ...r, 'success %': r.success_rate.toFixed(2) })),
            ['event_type', 'total', 'processed', 'pending', 'failed', 'success %'],
          )
        : '(no events)',
    );
    console.log(`\nSessions stuck in_progress for more than ${values['stale-after']}: ${stale.length}`);
    if (stale.length) {
      console.log(
        table(
          stale.slice(0, 20).map((s) => ({ ...s, started_at: s.started_at.toISOString() })),
          ['call_id', 'started_at', 'minutes_stuck'],
        ),
      );
      if (stale.length > 20) console.log(`... and ${stale.length - 20} more (--json lists all)`);
    }
    console.log(`\nChats stuck ongoing for more than ${values['chat-stale-after']}: ${chats.length}`);
    if (chats.length) {
      console.log(
        table(
          chats.slice(0, 20).map((c) => ({ ...c, started_at: c.started_at.toISOString() })),
          ['chat_id', 'chat_type', 'started_at', 'minutes_stuck'],
        ),
      );
      if (chats.length > 20) console.log(`... and ${chats.length - 20} more (--json lists all)`);
    }
    console.log('\nQueues');
    console.log(
      table(
        Object.entries(queueCounts).map(([queue, c]) =>
          c === 'unavailable' ? { queue, waiting: 'Redis unavailable' } : { queue, ...c },
        ),
        ['queue', 'waiting', 'active', 'delayed', 'failed', 'completed'],
      ),
    );
    console.log(
      `\nRetention, last ${values.window}: ${retention.runs} run(s)${retention.lastRunAt ? `, newest ${retention.lastRunAt.toISOString()}` : ''}`,
    );
    console.log(
      `  payloads pruned ${retention.payloadsPruned}, event rows deleted ${retention.eventRowsDeleted}, ` +
        `sessions' caller data removed ${retention.sessionsPiiPruned}, reconcile runs deleted ${retention.reconcileRunsDeleted}\n` +
        `  failed events' payloads pruned ${retention.failedPayloadsPruned}, function calls pruned ${retention.functionCallsPruned}, ` +
        `transfer events pruned ${retention.transferEventsPruned}, unsent deliveries expired ${retention.deliveriesExpired}`,
    );
    if (retention.lastError) console.log(`  newest run failed: ${retention.lastError}`);
    return 0;
  } finally {
    await queues.close().catch(() => undefined);
    connection.disconnect();
    await db.destroy();
  }
}
