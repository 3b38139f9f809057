/**
 * Body bytes the process holds for requests whose signature is not verified yet. Anyone can send
 * those, so they get one bound for the whole process. Bytes count as they arrive, not as declared:
 * a sender that announces a large body and trickles it holds only what it has sent (and the body
 * deadline ends it). A request whose declared body does not fit now is refused before it is read; one
 * whose next chunk does not fit is cut off. A flood of forged bodies cannot take the ingress's memory.
 */
export class UnverifiedBytes {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Whether `bytes` more would fit now. */
  fits(bytes: number): boolean {
    return this.held + bytes <= this.limit;
  }

  /** Hold `bytes` if they fit; false (and nothing held) when they do not. */
  take(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }

  inFlight(): number {
    return this.held;
  }
}
