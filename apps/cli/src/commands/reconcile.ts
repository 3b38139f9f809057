import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '@callsync/config';
import { createDb } from '@callsync/db';
import { defaultHandlers, runReconcilePass, type CallReport } from '@callsync/domain';
import { parseDuration } from '../duration';
import { retellClient } from '../retell-client';
import { ProgressBar } from '../progress';

export const RECONCILE_USAGE = `usage: make reconcile [ARGS="..."]   (or: node apps/cli/dist/main.js reconcile ...)

Run one reconciliation pass now: ask Retell about calls still in_progress (and finished calls
still without analysis) and apply what it says. Exits 1 if any call could not be checked.

  --older-than <age>   sessions started longer ago than this (default STALE_AFTER_MINUTES);
                       e.g. 90s, 10m, 2h, or a number of minutes
  --call-id <id>       only this call, whatever its age or status (repeatable, or comma-separated)
  --dry-run            ask Retell and report, change nothing

Besides the stale sessions, a pass lists calls and chats started since the last pass (list-calls,
list-chats) and creates the sessions callsync never heard of; make backfill imports older history.`;

const LABEL: Record<CallReport['outcome'], string> = {
  ended: 'ended',
  analyzed: 'analysis added',
  ongoing: 'still ongoing',
  no_analysis: 'no analysis yet',
  not_found: 'not found',
  failed: 'FAILED',
  discovered: 'discovered (no session before)',
};

/** `make reconcile`: one pass in the foreground with progress and a summary. */
export async function reconcileCommand(config: Config, argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'older-than': { type: 'string' },
        'call-id': { type: 'string', multiple: true },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${RECONCILE_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(RECONCILE_USAGE);
    return 0;
  }
  const staleAfterMinutes = values['older-than']
    ? parseDuration(values['older-than'], '--older-than')
    : config.reconcile.staleAfterMinutes;
  const callIds = (values['call-id'] ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const dryRun = values['dry-run'];

  const db = createDb({ url: config.database.url, poolSize: 12, applicationName: 'callsync-reconcile' });
  const retell = retellClient(config);
  const bar = new ProgressBar();
  const tally = { ended: 0, ongoing: 0, not_found: 0, failed: 0 };
  const scope = callIds.length
    ? `calls ${callIds.join(', ')}`
    : `sessions in_progress for more than ${+staleAfterMinutes.toFixed(2)} min`;
  console.log(
    `reconcile${dryRun ? ' (dry run: nothing is written)' : ''}: ${scope}, against ${config.retell.apiBaseUrl}`,
  );
  try {
    const summary = await runReconcilePass(
      { db, retell, handlers: defaultHandlers },
      {
        trigger: 'manual',
        runner: `${hostname()}:${process.pid}`,
        staleAfterMinutes,
        analysisAfterMinutes: config.reconcile.analysisAfterMinutes,
        maxTries: config.reconcile.maxTries,
        callIds,
        dryRun,
        onProgress: (done, total) =>
          bar.update(
            done,
            total,
            `ended ${tally.ended}  ongoing ${tally.ongoing}  not found ${tally.not_found}  failed ${tally.failed}`,
          ),
        onCall: (r) => {
          if (r.outcome === 'ended' || r.outcome === 'ongoing' || r.outcome === 'not_found' || r.outcome === 'failed')
            tally[r.outcome] += 1;
          // Every call on a plain stream; only the ones that need attention above a progress bar.
          if (!bar.interactive || r.outcome === 'failed' || r.outcome === 'not_found' || r.outcome === 'discovered') {
            bar.log(
              `${r.subject === 'chat' ? 'chat ' : ''}${r.callId}: ${LABEL[r.outcome]}${r.detail ? ` (${r.detail})` : ''}`,
            );
          }
        },
      },
    );
    bar.done();
    console.log(
      `\nfound ${summary.found}, ended ${summary.ended}, still ongoing ${summary.ongoing}, not found ${summary.not_found}, failed ${summary.failed}` +
        (summary.analyzed ? `; analysis added to ${summary.analyzed}` : '') +
        (summary.discovered ? `; discovered ${summary.discovered} call(s)/chat(s) without a session` : '') +
        (summary.runId ? `  (reconcile_runs.id ${summary.runId})` : ''),
    );
    return summary.failed > 0 ? 1 : 0;
  } finally {
    bar.done();
    await db.destroy();
  }
}
