import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, migrateToLatest } from '@callsync/db';
import { findPendingPage } from '@callsync/db/events';
import { seedPendingEventsForBench } from '@callsync/db/testing';
import { createLogger } from '@callsync/logger';
import { migrations } from '@callsync/migrations';
import {
  createRedisConnection,
  createWebhookQueue,
  enqueueWebhookBatch,
  rowsInLiveBatches,
  type WebhookQueue,
} from '@callsync/queue';
import { mapLimit } from '@callsync/runtime';
import { sweepPendingEvents } from '@callsync/worker';
import { LocalServices } from '../local-services';

/*
 * The outbox sweeper's cost with a large backlog (issue 32, docs/performance.md): N pending
 * webhook_events rows, all older than the sweep threshold and all held by live batch jobs (what a
 * flood the workers have not drained yet looks like), in a Postgres and a Redis of its own. Then one
 * sweep at a time, timed, with the process's memory sampled while it runs.
 *
 *   npx tsc -b && node --expose-gc packages/testkit/dist/bench/sweeper-scale.js --rows 1000000
 *
 * --compare also times what the sweeper did before (rowsInLiveBatches: every live job of the queue).
 * Prints JSON. Times are for this machine; nothing here is asserted.
 */

const USAGE = `usage: node --expose-gc packages/testkit/dist/bench/sweeper-scale.js [--rows 1000000] [--batch 64] [--sweeps 5] [--compare]`;

interface Measure {
  ms: number;
  /** Peak growth of heap + external memory over the idle process, in MB. */
  heapMb: number;
  /** Peak growth of the resident set over the idle process, in MB. */
  rssMb: number;
}

const MB = 1024 * 1024;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Run `fn` once, sampling memory every few ms; growth is measured from a collected heap before it. */
async function measure<T>(fn: () => Promise<T>): Promise<Measure & { value: T }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed + m.external - base.heapUsed - base.external);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  };
  const timer = setInterval(sample, 5);
  const started = process.hrtime.bigint();
  try {
    const value = await fn();
    sample();
    return {
      value,
      ms: round(Number(process.hrtime.bigint() - started) / 1e6),
      heapMb: round(peakHeap / MB),
      rssMb: round(peakRss / MB),
    };
  } finally {
    clearInterval(timer);
  }
}

async function buildBacklog(db: ReturnType<typeof createDb>, queue: WebhookQueue, rows: number, batch: number) {
  // Rows the ingress stored 10 minutes ago (older than the sweep's threshold).
  const ids = await seedPendingEventsForBench(db, rows);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += batch) batches.push(ids.slice(i, i + batch));
  // One batch job per ingress INSERT (enqueueWebhookBatch, which also records the batch's id range).
  await mapLimit(batches, 32, (b) =>
    enqueueWebhookBatch(
      queue,
      b.map((rowId) => ({ rowId, event: 'call_started' })),
    ),
  );
  return batches.length;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      batch: { type: 'string', default: '64' },
      sweeps: { type: 'string', default: '5' },
      compare: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rows = Number(values.rows);
  const batch = Number(values.batch);
  const sweeps = Number(values.sweeps);
  if (![rows, batch, sweeps].every((n) => Number.isInteger(n) && n > 0)) {
    console.error(`--rows, --batch and --sweeps must be positive integers\n${USAGE}`);
    return 2;
  }
  if (!(globalThis as { gc?: unknown }).gc)
    console.error('note: run node with --expose-gc for steadier memory figures');
  const root = join(__dirname, '..', '..', '..', '..');
  const services = await LocalServices.create(root, 'sweeper-scale');
  const say = (line: string) => console.error(`[sweeper-scale] ${line}`);
  try {
    say(`starting Postgres and Redis (${services.dataDir})`);
    await services.start();
    const db = createDb({ url: services.databaseUrl, poolSize: 4 });
    const connection = createRedisConnection({ url: services.redisUrl });
    const queue = createWebhookQueue({ connection, prefix: '{callsync}', attempts: 5, backoffMs: 1000 });
    const logger = createLogger({ silent: true });
    try {
      await migrateToLatest(db, migrations);
      say(`storing ${rows} pending rows and their batch jobs (${batch} rows each)`);
      const jobs = await buildBacklog(db, queue, rows, batch);
      const redis = await queue.getBackend().client;
      const entries = Number(await redis.runCommand('zcard', [queue.toKey('batch-rows')]));
      const waiting = (await queue.getJobCounts('waiting')).waiting;
      say(`${jobs} batch jobs (${waiting} waiting), ${entries} id-range entries`);
      const runs: Measure[] = [];
      let checked = 0;
      for (let i = 0; i < sweeps; i++) {
        const m = await measure(() => sweepPendingEvents(db, queue, logger, { pendingAfterMs: 60_000 }));
        if (m.value.enqueued || m.value.retried) {
          // Which row, and what Redis recorded around it.
          const pending = await findPendingPage(db, new Date(), null, rows);
          let orphan: string | undefined;
          for (const r of pending)
            if (await queue.getJob(`evt-${r.id}`)) {
              orphan = r.id;
              break;
            }
          const near = orphan
            ? await redis.runCommand('zrangebyscore', [queue.toKey('batch-rows'), Number(orphan) - 200, Number(orphan)])
            : [];
          throw new Error(
            `a sweep re-enqueued rows: ${JSON.stringify(m.value)}; first ${orphan}; entries ${JSON.stringify(near)}`,
          );
        }
        checked = m.value.checked;
        runs.push({ ms: m.ms, heapMb: m.heapMb, rssMb: m.rssMb });
        say(`sweep ${i + 1}: ${m.ms} ms, +${m.heapMb} MB heap, +${m.rssMb} MB rss, ${m.value.checked} rows checked`);
      }
      const result: Record<string, unknown> = {
        rows,
        batchJobs: jobs,
        rowsCheckedPerSweep: checked,
        sweeps: runs,
        worst: {
          ms: Math.max(...runs.map((r) => r.ms)),
          heapMb: Math.max(...runs.map((r) => r.heapMb)),
          rssMb: Math.max(...runs.map((r) => r.rssMb)),
        },
      };
      if (values.compare) {
        say('before issue 32: reading every live batch job (rowsInLiveBatches)');
        const old = await measure(() => rowsInLiveBatches(queue));
        result.before = {
          rowsInLiveBatches: { ms: old.ms, heapMb: old.heapMb, rssMb: old.rssMb, rows: old.value.size },
        };
        say('a whole pass over the backlog (every pending row, as every sweep did before)');
        const pass = await measure(() =>
          sweepPendingEvents(db, queue, logger, {
            pendingAfterMs: 60_000,
            maxRowsPerSweep: Infinity,
            maxMsPerSweep: Infinity,
          }),
        );
        result.wholePass = { ms: pass.ms, heapMb: pass.heapMb, rssMb: pass.rssMb, checked: pass.value.checked };
      }
      console.log(JSON.stringify(result, null, 2));
      return 0;
    } finally {
      await queue.close();
      connection.disconnect();
      await db.destroy();
    }
  } finally {
    await services.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
