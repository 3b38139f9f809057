/*
 * The few concurrency helpers callsync needs, once: a limit on work in flight, a timeout, and a poll.
 */

/** Run `fn` over `items` with at most `limit` calls in flight; resolves when all are done. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

/** A counting semaphore: at most `limit` callers inside `run` at once; the others wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Runs in progress plus runs waiting for a slot. */
  get load(): number {
    return this.active + this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** What withTimeout rejects with. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * `promise`, or a TimeoutError naming `what` once `ms` have passed. The work itself goes on (a promise
 * cannot be cancelled); only the wait for it ends. The timer never outlives the race.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Between two checks. Default 100 ms. */
  intervalMs?: number;
}

/**
 * Call `check` until it returns something other than undefined, and return that; undefined once
 * `timeoutMs` has passed without. An error from `check` ends the wait (callers that expect errors
 * while waiting catch them inside `check`).
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 100 }: WaitOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
