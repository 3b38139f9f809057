import { ContextCache, prefetchCallContext } from '@callsync/domain';
import { Metrics } from '@callsync/metrics';
import { failStartup } from '@callsync/runtime';
import { createLiveApp, FUNCTIONS_PATH, INBOUND_PATH } from './live.routes';
import {
  createLivePool,
  LIVE_BACKGROUND_POOL_SIZE,
  serve,
  signedRequestOptions,
  startServing,
  watchTenants,
} from './startup';

/*
 * The live process: what Retell asks during a call (the inbound webhook, custom functions, the
 * context API), at the ingress's paths, in a process and a pool of its own. Webhook bursts take the
 * ingress's CPU and connections, never these: a caller waits on every answer given here.
 * Routing (companies, numbers, schedules, blocklists) is held in memory and refreshed on every
 * callsync_tenants notification, so inbound answers route and reject without Postgres.
 */

async function main(): Promise<void> {
  const { config, keys, logger } = startServing('live');
  const db = createLivePool(config.database.url, config.live.poolSize, 'callsync-live');
  // What no answer waits on (records, prefetch at call_started) goes through a pool of its own.
  const background = createLivePool(config.database.url, LIVE_BACKGROUND_POOL_SIZE, 'callsync-live-background');
  const metrics = new Metrics('live');
  const prefetch = new ContextCache();
  // The listener reads the snapshot on connect and again on every change (and after a reconnect).
  const { directory, listener } = watchTenants(db, config.database.url, logger, {
    // A call started (an ingress announced it): its caller's context is read now, not at its first function.
    started: (call) =>
      void prefetchCallContext(background, keys, { directory, prefetched: prefetch }, call).catch((err: Error) =>
        logger.debug('call context not prefetched', { call_id: call.call_id, err: err.message }),
      ),
    // A caller was erased (make forget): nothing prefetched survives it.
    erased: () => prefetch.clear(),
  });
  // A safety net besides the notifications (a missed one, a change made with psql): every minute.
  const refresher = setInterval(() => void directory.refresh(), 60_000);
  refresher.unref();
  await directory.refresh();
  let draining = false;
  const afterAnswers: (() => Promise<void>)[] = [];
  const app = createLiveApp({
    afterAnswers: (settled) => afterAnswers.push(settled),
    db,
    backgroundDb: background,
    keys,
    logger,
    metrics,
    directory,
    prefetch,
    draining: () => draining,
    ...signedRequestOptions(config),
  });
  await serve(app, {
    logger,
    port: config.live.port,
    listening: () =>
      logger.info(`live routes on :${config.live.port} (${INBOUND_PATH}, ${FUNCTIONS_PATH}, the context API)`, {
        routing: directory.loaded ? 'in memory' : 'not loaded yet (Postgres unreachable); reading it on reconnect',
      }),
    metrics,
    metricsPort: config.live.metricsPort,
    metricsVariable: 'LIVE_METRICS_PORT',
    drainMs: config.ingress.shutdownDrainMs,
    startDraining: () => (draining = true),
    close: async () => {
      clearInterval(refresher);
      await listener.close();
      // Function results and inbound answers are written just after they were sent: first those.
      await Promise.all(afterAnswers.map((settled) => settled()));
      await Promise.all([db.destroy(), background.destroy()]);
    },
  });
}

main().catch(failStartup);
