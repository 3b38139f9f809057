import type { Config } from '@callsync/config';
import { RetellApiClient } from '@callsync/retell';

/** The Retell API client the operator's commands use, configured from the environment. */
export function retellClient(config: Config): RetellApiClient {
  return new RetellApiClient({
    baseUrl: config.retell.apiBaseUrl,
    apiKey: config.retell.apiKey,
    concurrency: config.retell.apiConcurrency,
    timeoutMs: config.retell.apiTimeoutMs,
  });
}
