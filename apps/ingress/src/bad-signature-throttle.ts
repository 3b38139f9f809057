/**
 * Addresses that keep sending bad signatures. Each costly 401 (a body read whose signature did not
 * match, a bearer token looked up in vain) counts against its address in a fixed window;
 * past `limit` in one window the address is throttled for the rest of it: its requests are answered
 * 429 before anything of them is read. Retell never sends a bad signature unless the keys are wrong,
 * in which case none of its deliveries could be accepted anyway.
 *
 * The address is Express's `req.ip`: behind a load balancer that is not on loopback, every request
 * shares the balancer's address (README: "Behind a load balancer").
 */
export interface BadSignatureThrottleOptions {
  /** 401s an address may get per window before it is throttled. Default 20. */
  limit?: number;
  /** Length of a window. Default 60 000 ms. */
  windowMs?: number;
  /** Addresses tracked per window at most; beyond, new ones are not counted (memory stays bounded). Default 10 000. */
  maxAddresses?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export class BadSignatureThrottle {
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private windowStart = 0;
  private failures = new Map<string, number>();

  constructor(o: BadSignatureThrottleOptions = {}) {
    this.limit = o.limit ?? 20;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < this.windowMs) return;
    this.windowStart = now - ((now - this.windowStart) % this.windowMs);
    this.failures = new Map();
  }

  /** Seconds until the address may send again, or 0 when it is not throttled. */
  retryAfterSeconds(address: string): number {
    this.roll();
    if ((this.failures.get(address) ?? 0) < this.limit) return 0;
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - this.now()) / 1000));
  }

  /** Count a 401; true when this one made the address throttled (log it once, not per request). */
  refused(address: string): boolean {
    this.roll();
    const seen = this.failures.get(address);
    if (seen === undefined && this.failures.size >= this.maxAddresses) return false;
    const count = (seen ?? 0) + 1;
    this.failures.set(address, count);
    return count === this.limit;
  }
}
