/**
 * A function's concurrency: at most `limit` handlers hold a slot; the rest wait in order. Unlike a
 * limiter around the handler's promise, a slot is released by whoever ends the run: the handler, or
 * the hard timeout that abandons it (a hung handler cannot hold its slot forever).
 */
export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Slots held plus callers waiting for one. */
  get load(): number {
    return this.active + this.waiting.length;
  }

  /** Resolves with the release, callable once (later calls do nothing). */
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}
