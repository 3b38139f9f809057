import type { BreakerView } from '@callsync/db';
import { breakerCooldownMs, decideBreaker } from './breaker';

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
