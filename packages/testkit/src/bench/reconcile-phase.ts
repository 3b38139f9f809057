import { hostname } from 'node:os';
import { loadConfig } from '@callsync/config';
import { createDb } from '@callsync/db';
import { countSessionsStuckInProgress } from '@callsync/db/ops';
import { defaultHandlers, runReconcilePass } from '@callsync/domain';
import { FakeRetell } from '@callsync/fake-retell';
import { RetellApiClient, sampleCall } from '@callsync/retell';
import { API_KEY, drained, load, webhookUrl, type BenchRun } from './run';

export interface ReconcileResult {
  sessions: number;
  /** The fake Retell's limit, requests per second. */
  ratePerSecond: number;
  seconds: number;
  /** sessions / ratePerSecond: every request spent on a session, none wasted. */
  idealSeconds: number;
  ended: number;
  failed: number;
  /** Requests the fake answered 429. */
  throttled: number;
}

const STALE_FOR_MS = 2 * 3600_000;

/**
 * (h) Reconciliation throughput: `sessions` calls that only ever sent call_started (through the
 * ingress and the workers, 2 hours ago), which the fake Retell, limited to `ratePerSecond` requests a
 * second, says ended. One pass, as the scheduler runs it with the product's settings, closes them all;
 * the ideal is one get-call per session at the limit.
 */
export async function measureReconcile(run: BenchRun): Promise<ReconcileResult> {
  const sessions = run.options.staleSessions ?? 2000;
  const ratePerSecond = run.options.retellRatePerSecond ?? 100;
  run.say(`(h) reconcile: ${sessions} stale sessions, Retell's API limited to ${ratePerSecond} requests/s`);
  await load(run.options.root, {
    ...run.common,
    connections: 20,
    url: webhookUrl(run),
    apiKey: API_KEY,
    runId: 'stale',
    events: ['call_started'],
    amount: sessions,
    startedAgoMs: STALE_FOR_MS,
  });
  await drained(run.db);

  const fake = new FakeRetell({ apiKeys: [API_KEY], rateLimitPerSecond: ratePerSecond });
  const startMs = Date.now() - STALE_FOR_MS;
  // load-process.ts names the i-th call of run 'stale' (one event per call) bench_stale_<i>.
  for (let i = 0; i < sessions; i++) fake.setCall(sampleCall({ callId: `bench_stale_${i}`, startMs }, 'call_ended'));
  const baseUrl = await fake.start();
  const config = loadConfig({ ...run.env, RETELL_API_BASE_URL: baseUrl, STALE_AFTER_MINUTES: '60' });
  const retell = new RetellApiClient({
    baseUrl,
    apiKey: API_KEY,
    concurrency: config.retell.apiConcurrency,
    timeoutMs: config.retell.apiTimeoutMs,
  });
  // The pool `make reconcile` opens.
  const db = createDb({ url: config.database.url, poolSize: 12 });
  try {
    const started = performance.now();
    const summary = await runReconcilePass(
      { db, retell, handlers: defaultHandlers },
      {
        trigger: 'manual',
        runner: `${hostname()}:${process.pid}`,
        staleAfterMinutes: config.reconcile.staleAfterMinutes,
        analysisAfterMinutes: config.reconcile.analysisAfterMinutes,
        maxTries: config.reconcile.maxTries,
      },
    );
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const left = await countSessionsStuckInProgress(db, new Date(Date.now() - 3600_000));
    run.say(`    ${seconds}s: ended ${summary.ended}, failed ${summary.failed}, ${left} still in progress`);
    return {
      sessions,
      ratePerSecond,
      seconds,
      idealSeconds: sessions / ratePerSecond,
      ended: summary.ended,
      failed: summary.failed,
      throttled: fake.throttled,
    };
  } finally {
    await db.destroy();
    await fake.stop();
  }
}
