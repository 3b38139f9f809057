/**
 * Failed logins per address. The first `freeFailures` cost nothing; every later one locks the
 * address out for twice as long as the one before (1 s, 2 s, 4 s, ... up to `maxDelayMs`), and while
 * locked out every attempt, right or wrong, is answered 429. A success clears the address.
 */
export interface LoginThrottleOptions {
  /** Wrong passwords allowed before delays begin. Default 5. */
  freeFailures?: number;
  /** The first delay; each later one doubles. Default 1000 ms. */
  baseDelayMs?: number;
  /** The longest delay. Default 15 minutes. */
  maxDelayMs?: number;
  /** Addresses remembered at most (the oldest are forgotten first). Default 10 000. */
  maxAddresses?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface Failures {
  count: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly o: Required<LoginThrottleOptions>;
  private readonly byAddress = new Map<string, Failures>();

  constructor(o: LoginThrottleOptions = {}) {
    this.o = {
      freeFailures: 5,
      baseDelayMs: 1000,
      maxDelayMs: 15 * 60_000,
      maxAddresses: 10_000,
      now: Date.now,
      ...o,
    };
  }

  /** Seconds the address must wait before trying again, or 0. */
  retryAfterSeconds(address: string): number {
    const f = this.byAddress.get(address);
    const wait = f ? f.lockedUntil - this.o.now() : 0;
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  /** A wrong password from the address: the delay it now has to wait, in seconds (0 while free). */
  failed(address: string): number {
    const f = this.byAddress.get(address) ?? { count: 0, lockedUntil: 0 };
    this.byAddress.delete(address);
    if (this.byAddress.size >= this.o.maxAddresses) {
      const oldest = this.byAddress.keys().next().value;
      if (oldest !== undefined) this.byAddress.delete(oldest);
    }
    f.count += 1;
    const over = f.count - this.o.freeFailures;
    if (over > 0) {
      const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over - 1, 30));
      f.lockedUntil = this.o.now() + delay;
    }
    this.byAddress.set(address, f);
    return this.retryAfterSeconds(address);
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }
}
