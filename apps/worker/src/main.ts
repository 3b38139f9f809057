import { loadConfigFor } from '@callsync/config';
import { createLogger } from '@callsync/logger';
import { failStartup, handleShutdown, limitHeapGrowth, workerShutdownBoundMs } from '@callsync/runtime';
import { startWorkerProcess } from './worker-process';

function main(): void {
  limitHeapGrowth();
  const config = loadConfigFor('worker');
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.env === 'development',
    defaultMeta: { service: 'worker', pid: process.pid },
  });
  for (const warning of config.warnings) logger.warn(warning);
  const started = startWorkerProcess(config, logger);
  started.catch(failStartup);
  // Installed before start-up finishes, so a SIGTERM during it still ends in a clean stop.
  // The process-level bound sits above the workers' own, which leave unfinished jobs to others.
  handleShutdown({
    logger,
    stop: async () => (await started).stop(),
    timeoutMs: workerShutdownBoundMs(config.worker.shutdownTimeoutMs),
  });
}

try {
  main();
} catch (err) {
  failStartup(err);
}
