import type { BreakerView } from '@callsync/db/forward';
import { breakerCooldownMs, decideBreaker, DEFAULT_BREAKER_COOLDOWN_MS, MAX_BREAKER_COOLDOWN_MS } from './breaker';

const closed: BreakerView = {
  state: 'active',
  paused_by: null,
  consecutive_failures: 0,
  breaker_threshold: 3,
  breaker_opens: 0,
};
const open: BreakerView = {
  ...closed,
  state: 'paused',
  paused_by: 'breaker',
  consecutive_failures: 3,
  breaker_opens: 1,
};
const fail = { success: false, gone: false, probe: false };
const ok = { success: true, gone: false, probe: false };

describe('the circuit breaker', () => {
  it('opens at the threshold of consecutive failures, not before, and never when turned off', () => {
    expect(decideBreaker({ ...closed, consecutive_failures: 1 }, fail, 1000)).toEqual({ kind: 'keep' });
    expect(decideBreaker({ ...closed, consecutive_failures: 2 }, fail, 1000)).toMatchObject({
      kind: 'open',
      probeInMs: 1000,
      reason: expect.stringMatching(/^circuit breaker: 3 consecutive failures/),
    });
    expect(decideBreaker({ ...closed, breaker_threshold: 0, consecutive_failures: 99 }, fail, 1000)).toEqual({
      kind: 'keep',
    });
    expect(decideBreaker({ ...closed, consecutive_failures: 2 }, ok, 1000)).toEqual({ kind: 'keep' });
  });

  it('closes on a successful probe and re-opens on a failed one with a cool-down that doubles up to 1 h', () => {
    expect(decideBreaker(open, { ...ok, probe: true }, 1000)).toEqual({ kind: 'close' });
    expect(decideBreaker(open, { ...fail, probe: true }, 1000)).toMatchObject({ kind: 'open', probeInMs: 2000 });
    expect(decideBreaker({ ...open, breaker_opens: 3 }, { ...fail, probe: true }, 1000)).toMatchObject({
      probeInMs: 8000,
    });
    expect(breakerCooldownMs(1, 30_000)).toBe(30_000);
    expect(breakerCooldownMs(2, 30_000)).toBe(60_000);
    expect(breakerCooldownMs(8, 30_000)).toBe(3_600_000);
    expect(breakerCooldownMs(500, 30_000)).toBe(3_600_000);
  });

  it('leaves an operator’s pause and a 410 pause alone: only resume ends them', () => {
    for (const pausedBy of ['operator', 'gone'] as const) {
      const paused: BreakerView = { ...open, paused_by: pausedBy };
      expect(decideBreaker(paused, { ...ok, probe: true }, 1000)).toEqual({ kind: 'keep' });
      expect(decideBreaker(paused, { ...fail, probe: true }, 1000)).toEqual({ kind: 'keep' });
      expect(decideBreaker({ ...paused, consecutive_failures: 50 }, fail, 1000)).toEqual({ kind: 'keep' });
    }
  });

  it('pauses on 410 Gone, also while the breaker is open, with a reason', () => {
    const gone = { success: false, gone: true, probe: false };
    expect(decideBreaker(closed, gone, 1000)).toMatchObject({ kind: 'gone', reason: expect.stringMatching(/410/) });
    expect(decideBreaker(open, { ...gone, probe: true }, 1000)).toMatchObject({ kind: 'gone' });
    expect(decideBreaker({ ...open, paused_by: 'operator' }, gone, 1000)).toEqual({ kind: 'keep' });
  });
});

describe('the breaker’s cool-down', () => {
  it('grows with each failed probe in a row, 30 s, 1 min, 2 min … and stays at 1 h', () => {
    let view: BreakerView = { ...open, breaker_opens: 0 };
    const probes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const decision = decideBreaker(view, { ...fail, probe: true }, DEFAULT_BREAKER_COOLDOWN_MS);
      if (decision.kind !== 'open') throw new Error(`a failed probe re-opens the breaker, got ${decision.kind}`);
      probes.push(decision.probeInMs / 1000);
      view = { ...view, breaker_opens: view.breaker_opens + 1 };
    }
    expect(probes).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it('says in its reason when it probes next', () => {
    const first = decideBreaker({ ...closed, consecutive_failures: 2 }, fail, DEFAULT_BREAKER_COOLDOWN_MS);
    expect(first).toMatchObject({ reason: 'circuit breaker: 3 consecutive failures; probing in 30 s' });
    const late = decideBreaker({ ...open, breaker_opens: 9 }, { ...fail, probe: true }, DEFAULT_BREAKER_COOLDOWN_MS);
    expect(late).toMatchObject({
      probeInMs: MAX_BREAKER_COOLDOWN_MS,
      reason: 'circuit breaker: probe failed (opened 10 times in a row); probing again in 60 min',
    });
  });

  it('starts from the first cool-down once a probe closed it (openings back to 0)', () => {
    expect(decideBreaker({ ...closed, consecutive_failures: 2 }, fail, 5000)).toMatchObject({ probeInMs: 5000 });
    expect(breakerCooldownMs(0, 5000)).toBe(5000);
  });

  it('never grows past its bound, however large the base or the count', () => {
    expect(breakerCooldownMs(3, 7_200_000)).toBe(MAX_BREAKER_COOLDOWN_MS);
    expect(breakerCooldownMs(Number.MAX_SAFE_INTEGER, 1000)).toBe(MAX_BREAKER_COOLDOWN_MS);
    expect(breakerCooldownMs(4, 1000, 5000)).toBe(5000);
  });
});

describe('attempts the breaker ignores', () => {
  it('a removed destination: nothing changes, not even for a 410', () => {
    const removed: BreakerView = { ...closed, state: 'removed', consecutive_failures: 99 };
    expect(decideBreaker(removed, fail, 1000)).toEqual({ kind: 'keep' });
    expect(decideBreaker(removed, { success: false, gone: true, probe: false }, 1000)).toEqual({ kind: 'keep' });
  });

  it('an open breaker’s attempts that were not its probe (in flight when it opened) neither close nor re-open it', () => {
    expect(decideBreaker(open, ok, 1000)).toEqual({ kind: 'keep' });
    expect(decideBreaker(open, fail, 1000)).toEqual({ kind: 'keep' });
  });
});
