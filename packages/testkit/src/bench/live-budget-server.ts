// The bench's turn-budget server: callsync's live app (createLiveApp, the real FunctionInvoker with
// its records in Postgres) serving one heavy-tailed function, `bench_lookup`: p50 100 ms, p99 5 s, as
// a slow CRM or calendar behaves. Its budget is BENCH_BUDGET_MS; past it the agent gets the pending
// message. It counts how often its handler ran per invocation, so the bench can tell a double run.
// Run as its own process: node live-budget-server.js <port> <budgetMs>, with callsync's environment.
import express from 'express';
import { z } from 'zod';
import { loadConfig, requireSecretKey } from '@callsync/config';
import { createDb } from '@callsync/db';
import { defineFunction, functionRegistry, SecretKeyring } from '@callsync/domain';
import { createLiveApp } from '@callsync/ingress';
import { createLogger } from '@callsync/logger';
import { Metrics } from '@callsync/metrics';

const port = Number(process.argv[2]);
const budgetMs = Number(process.argv[3] ?? 500);
const config = loadConfig();
const db = createDb({ url: config.database.url, poolSize: config.live.poolSize, applicationName: 'bench-live-budget' });

/** Lognormal with median 100 ms and p99 5 s: sigma = ln(50) / 2.326. */
function heavyTailMs(): number {
  const z1 = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return Math.min(10_000, 100 * Math.exp((Math.log(50) / 2.326) * z1));
}

const runs = new Map<string, number>();
const lookup = defineFunction({
  name: 'bench_lookup',
  description: 'bench: a lookup in a slow external system',
  args: z.object({ invocation: z.string() }),
  budgetMs,
  pendingMessage: 'Ich schaue noch nach, einen Moment.',
  timeoutMs: 8000,
  // It waits on another system, not on this process's CPU.
  concurrency: 256,
  async handle({ signal }, { invocation }) {
    runs.set(invocation, (runs.get(invocation) ?? 0) + 1);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, heavyTailMs());
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return `Termin frei am Donnerstag um 10 Uhr (${invocation}).`;
  },
});

const live = createLiveApp({
  db,
  keys: new SecretKeyring(requireSecretKey(config)),
  logger: createLogger({ level: 'warn', defaultMeta: { service: 'bench-live-budget' } }),
  metrics: new Metrics('bench-live-budget'),
  functions: functionRegistry([lookup]),
  apiTokens: [],
  webhookKeys: config.retell.webhookKeys,
  signatureToleranceMs: config.ingress.signatureToleranceMs,
});
const app = express();
// How often the handler ran per invocation: more than once is a double run.
app.get('/__bench/runs', (_req, res) => {
  const counts = [...runs.values()];
  res.json({ invocations: counts.length, doubleRuns: counts.filter((n) => n > 1).length });
});
app.use(live);
app.listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
