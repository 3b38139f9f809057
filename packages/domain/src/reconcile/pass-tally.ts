import type { ReconcileCounts } from '@callsync/db/reconcile';
import type { CallReport } from './check-subject';

export interface TallyListener {
  onProgress?: (done: number, total: number) => void;
  onCall?: (report: CallReport) => void;
}

/** A pass's counts and progress, in one place that every step is handed explicitly. */
export class PassTally {
  readonly counts: ReconcileCounts = {
    found: 0,
    ended: 0,
    ongoing: 0,
    not_found: 0,
    analyzed: 0,
    failed: 0,
    discovered: 0,
  };
  private done = 0;
  private total = 0;

  constructor(private readonly listener: TallyListener) {}

  /** More calls or chats will be reported (announced to the progress listener). */
  expect(n: number): void {
    this.total += n;
    this.listener.onProgress?.(this.done, this.total);
  }

  /** Candidates loaded (or listed) for a check. */
  found(n: number): void {
    this.counts.found += n;
  }

  /** One call or chat's outcome. */
  report(r: CallReport): void {
    this.counts[r.outcome === 'no_analysis' ? 'ongoing' : r.outcome] += 1;
    this.done += 1;
    this.listener.onCall?.(r);
    this.listener.onProgress?.(this.done, this.total);
  }

  /** A step that failed as a whole (a listing Retell did not answer): counted, reported, no progress. */
  stepFailed(r: CallReport): void {
    this.counts.failed += 1;
    this.listener.onCall?.(r);
  }
}
