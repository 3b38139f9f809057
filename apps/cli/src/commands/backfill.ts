import { parseArgs } from 'node:util';
import type { Config } from '@callsync/config';
import { createDb } from '@callsync/db';
import { withReconcileLock } from '@callsync/db/reconcile';
import { defaultHandlers, discoverMissed } from '@callsync/domain';
import { parseDuration } from '../duration';
import { retellClient } from '../retell-client';
import { ProgressBar } from '../progress';

export const BACKFILL_USAGE = `usage: make backfill ARGS="--since 7d [--dry-run]"

Import history: list the calls and chats that started in the window at Retell (list-calls,
list-chats) and create a session for every one callsync has none for, through the same handlers as a
webhook (source = reconcile). Safe to run again, and beside a running system: it takes the
reconciliation lock, and calls already known are left alone. Exits 1 if any could not be imported.

  --since <age>   how far back, e.g. 7d, 12h, 90m (required)
  --calls-only / --chats-only
  --dry-run       list and count, create nothing`;

/** `make backfill`: import calls and chats callsync never heard of. */
export async function backfillCommand(config: Config, argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' },
        'calls-only': { type: 'boolean', default: false },
        'chats-only': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
    if (values.help) {
      console.log(BACKFILL_USAGE);
      return 0;
    }
    if (!values.since) throw new Error('--since is required, e.g. --since 7d');
    if (values['calls-only'] && values['chats-only'])
      throw new Error('--calls-only and --chats-only exclude each other');
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${BACKFILL_USAGE}`);
    return 2;
  }
  let sinceMinutes: number;
  try {
    sinceMinutes = parseDuration(values.since, '--since');
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const untilMs = Date.now();
  const sinceMs = untilMs - sinceMinutes * 60_000;
  const kinds = values['calls-only'] ? (['calls'] as const) : values['chats-only'] ? (['chats'] as const) : undefined;
  const dryRun = values['dry-run'];
  const db = createDb({ url: config.database.url, poolSize: 4, applicationName: 'callsync-backfill' });
  const retell = retellClient(config);
  const bar = new ProgressBar();
  console.log(
    `backfill${dryRun ? ' (dry run: nothing is written)' : ''}: calls and chats started since ${new Date(sinceMs).toISOString()}, from ${config.retell.apiBaseUrl}`,
  );
  try {
    const summary = await withReconcileLock(db, () =>
      discoverMissed(
        { db, retell, handlers: defaultHandlers },
        {
          sinceMs,
          untilMs,
          kinds,
          dryRun,
          onProgress: (done, total) => bar.update(done, total),
          onFound: (f) => {
            if (!bar.interactive || f.error)
              bar.log(
                `${f.subject} ${f.id}: ${f.error ? `FAILED (${f.error})` : dryRun ? 'would import' : `imported (${f.events.join(', ')})`}`,
              );
          },
        },
      ),
    );
    bar.done();
    console.log(
      `\nlisted ${summary.listed}, already known ${summary.known}, ${dryRun ? 'would import' : 'imported'} ${summary.imported}, failed ${summary.failed}`,
    );
    return summary.failed > 0 ? 1 : 0;
  } catch (err) {
    bar.done();
    console.error(`backfill failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await db.destroy();
  }
}
