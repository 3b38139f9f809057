import { dateOf, forwardStatus, mergeRanked, outranks, type RankedPatch, type RankedState } from './ranked-merge';

/* The merge calls and chats share: every arrival order of the same events gives the same session. */

interface Session extends RankedState {
  end_reason: string | null;
  summary: string | null;
}
interface Patch extends RankedPatch {
  end_reason: string | null;
  summary: string | null;
}

const empty: Session = {
  lifecycle_rank: 0,
  last_event_at: null,
  analysis: null,
  analyzed_at: null,
  end_reason: null,
  summary: null,
};
const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 9, 0, s));
const started: Patch = { rank: 1, observedAt: at(1), analysis: null, end_reason: null, summary: 'started' };
const ended: Patch = { rank: 2, observedAt: at(5), analysis: null, end_reason: 'user_hangup', summary: 'ended' };
// As Retell's events are, snapshots of one growing call object: a later one carries what the earlier ones did.
const analyzed: Patch = {
  rank: 3,
  observedAt: at(9),
  analysis: { ok: true },
  end_reason: 'user_hangup',
  summary: 'ended',
};
const reanalyzed: Patch = { ...analyzed, observedAt: at(12), analysis: { ok: false } };

const FIELDS = ['end_reason', 'summary'] as const;
const apply = (patches: readonly Patch[]) => patches.reduce((s, p) => mergeRanked(s, p, FIELDS), empty);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('mergeRanked', () => {
  it('gives the same session for every arrival order', () => {
    const events = [started, ended, analyzed, reanalyzed];
    const expected = apply(events);
    expect(expected).toEqual({
      lifecycle_rank: 3,
      last_event_at: at(12),
      analysis: { ok: false },
      analyzed_at: at(12),
      end_reason: 'user_hangup',
      summary: 'ended',
    });
    for (const order of permutations(events)) expect(apply(order)).toEqual(expected);
  });

  it('lets a lower-ranked event only fill what is still empty', () => {
    const afterEnd = apply([ended]);
    expect(apply([ended, started]).summary).toBe('ended');
    expect(mergeRanked({ ...afterEnd, summary: null }, started, FIELDS).summary).toBe('started');
  });

  it('breaks an analysis tie within one millisecond by the larger JSON, whichever came first', () => {
    const a: Patch = { ...analyzed, analysis: { v: 'a' } };
    const b: Patch = { ...analyzed, analysis: { v: 'b' } };
    expect(apply([a, b]).analysis).toEqual({ v: 'b' });
    expect(apply([b, a]).analysis).toEqual({ v: 'b' });
  });

  it('never moves last_event_at back', () => {
    expect(apply([ended, started]).last_event_at).toEqual(at(5));
  });
});

describe('outranks and forwardStatus', () => {
  it('an event of the same or a higher rank outranks', () => {
    expect(outranks({ ...empty, lifecycle_rank: 2 }, ended)).toBe(true);
    expect(outranks({ ...empty, lifecycle_rank: 2 }, analyzed)).toBe(true);
    expect(outranks({ ...empty, lifecycle_rank: 2 }, started)).toBe(false);
  });

  it('moves status forward only: open to terminal, and between terminal values the outranking event decides', () => {
    expect(forwardStatus('in_progress', 'ended', 'in_progress', false)).toBe('ended');
    expect(forwardStatus('ended', 'in_progress', 'in_progress', true)).toBe('ended');
    expect(forwardStatus('ended', 'error', 'in_progress', true)).toBe('error');
    expect(forwardStatus('ended', 'error', 'in_progress', false)).toBe('ended');
  });

  it('dateOf keeps a missing timestamp missing', () => {
    expect([dateOf(null), dateOf(undefined), dateOf(0)]).toEqual([null, null, new Date(0)]);
  });
});
