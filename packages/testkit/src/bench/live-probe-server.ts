// The bench's probed live process (`make bench ARGS="--only live --probe-live"`): the live routes as
// live-main.js serves them (routing in memory, callers prefetched on callsync_calls, the team's
// functions) on a pool whose statements are counted and timed (pool-probe.ts). GET /__bench/pool
// answers the figures since the last ask: statements, their wait for a connection and their run, the
// event loop's delay and the CPU the process used.
// Run as its own process: node live-probe-server.js <port>, with callsync's environment.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import express from 'express';
import { loadConfig, requireSecretKey } from '@callsync/config';
import { listenForTenantChanges } from '@callsync/db/tenants';
import {
  BUILTIN_FUNCTIONS,
  ContextCache,
  functionRegistry,
  prefetchCallContext,
  SecretKeyring,
  TenantDirectory,
} from '@callsync/domain';
import { createLiveApp, LIVE_BACKGROUND_POOL_SIZE } from '@callsync/ingress';
import { createLogger } from '@callsync/logger';
import { Metrics } from '@callsync/metrics';
import { probedDb } from './pool-probe';

const port = Number(process.argv[2]);
const config = loadConfig();
const keys = new SecretKeyring(requireSecretKey(config));
const logger = createLogger({ level: 'warn', defaultMeta: { service: 'bench-live-probe' } });
const { db, probe } = probedDb(config.database.url, config.live.poolSize, 'bench-live-probe');
// As live-main.js: records and prefetch through a pool of their own (its figures: `background`).
const background = probedDb(config.database.url, LIVE_BACKGROUND_POOL_SIZE, 'bench-live-probe-background');
const directory = new TenantDirectory(db);
const prefetch = new ContextCache();
listenForTenantChanges(
  config.database.url,
  () => void directory.refresh(),
  undefined,
  (call) =>
    void prefetchCallContext(background.db, keys, { directory, prefetched: prefetch }, call).catch(() => undefined),
);

// How late the event loop ran its timers: time an answer waited for this process's CPU, not for Postgres.
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let cpu = process.cpuUsage();

const app = express();
app.get('/__bench/pool', (_req, res) => {
  const used = process.cpuUsage(cpu);
  cpu = process.cpuUsage();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  res.json({
    ...probe.take(),
    background: background.probe.take(),
    prefetchHits: prefetch.hits,
    prefetchMisses: prefetch.misses,
    loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    cpuMs: Math.round((used.user + used.system) / 1000),
  });
  loop.reset();
});
app.use(
  createLiveApp({
    db,
    backgroundDb: background.db,
    keys,
    logger,
    metrics: new Metrics('bench-live-probe'),
    functions: functionRegistry([...BUILTIN_FUNCTIONS]),
    apiTokens: [],
    directory,
    prefetch,
    webhookKeys: config.retell.webhookKeys,
    signatureToleranceMs: config.ingress.signatureToleranceMs,
  }),
);
void directory.refresh().then(() => app.listen(port, '127.0.0.1'));
