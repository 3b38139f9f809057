import { FakeRetell } from '@callsync/fake-retell';
import { RetellApiClient, type RetellApiClientOptions } from '@callsync/retell';
import { TEST_API_KEY } from './env';

/** A started fake Retell API on loopback and a real API client pointed at it. */
export async function startFakeRetell(
  clientOptions: { concurrency?: number; maxRetries?: number; backoffMs?: number } = {},
  fakeOptions: { rateLimitPerSecond?: number } = {},
) {
  const fake = new FakeRetell({ apiKeys: [TEST_API_KEY], ...fakeOptions });
  const baseUrl = await fake.start();
  const client = new RetellApiClient({
    baseUrl,
    apiKey: TEST_API_KEY,
    backoffMs: 20,
    timeoutMs: 5000,
    ...clientOptions,
  });
  return { fake, baseUrl, client };
}

/**
 * A client of `baseUrl` whose waits (backoff, retry-after) are recorded and return at once, instead
 * of passing on the wall clock. With Date.now frozen (jest.spyOn), each recorded wait is exact.
 */
export function clientRecordingWaits(
  baseUrl: string,
  options: Omit<RetellApiClientOptions, 'baseUrl' | 'apiKey' | 'sleep'> = {},
): { client: RetellApiClient; waits: number[] } {
  const waits: number[] = [];
  const client = new RetellApiClient({
    baseUrl,
    apiKey: TEST_API_KEY,
    backoffMs: 20,
    timeoutMs: 5000,
    ...options,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { client, waits };
}
