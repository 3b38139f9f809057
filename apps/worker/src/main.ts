import { loadConfig } from '@callsync/config';
import { createLogger } from '@callsync/logger';
import { failStartup, handleShutdown } from '@callsync/runtime';
import { startWorkerProcess } from './worker-process';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development', defaultMeta: { service: 'worker', pid: process.pid } });
  const worker = await startWorkerProcess(config, logger);
  // The process-level bound sits above the workers' own, which leave unfinished jobs to others.
  handleShutdown({ logger, stop: worker.stop, timeoutMs: config.worker.shutdownTimeoutMs + 10_000 });
}

main().catch(failStartup);
