import type { CallReport } from './check-subject';
import { PassTally } from './pass-tally';

const report = (outcome: CallReport['outcome'], callId = 'call_1'): CallReport => ({
  callId,
  subject: 'call',
  reason: 'stale',
  outcome,
});

describe('PassTally', () => {
  it('counts each outcome, a check without analysis as ongoing, and tells progress against what it expects', () => {
    const progress: [number, number][] = [];
    const calls: string[] = [];
    const tally = new PassTally({ onProgress: (d, t) => progress.push([d, t]), onCall: (r) => calls.push(r.callId) });
    tally.found(3);
    tally.expect(3);
    tally.report(report('ended', 'a'));
    tally.report(report('no_analysis', 'b'));
    tally.report(report('failed', 'c'));
    expect(tally.counts).toEqual({
      found: 3,
      ended: 1,
      ongoing: 1,
      not_found: 0,
      analyzed: 0,
      failed: 1,
      discovered: 0,
    });
    expect(progress).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('counts a failed step (a listing) as failed without moving progress', () => {
    const progress: [number, number][] = [];
    const tally = new PassTally({ onProgress: (d, t) => progress.push([d, t]) });
    tally.stepFailed({ ...report('failed'), callId: 'list-calls', reason: 'discovered' });
    expect(tally.counts.failed).toBe(1);
    expect(tally.counts.found).toBe(0);
    expect(progress).toEqual([]);
  });
});
