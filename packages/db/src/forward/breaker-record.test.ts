import { breakerRecord, type BreakerView } from './breaker-record';

const active: BreakerView = {
  state: 'active',
  paused_by: null,
  consecutive_failures: 2,
  breaker_threshold: 3,
  breaker_opens: 0,
};
/** A destination with no pause and no probe. */
const noPause = { paused_by: null, paused_reason: null, probe_in_ms: null, probe_delivery_id: null };
const open: BreakerView = {
  ...active,
  state: 'paused',
  paused_by: 'breaker',
  consecutive_failures: 3,
  breaker_opens: 2,
};

describe('what a breaker verdict writes on its destination', () => {
  it('keep: only the streak moves, up on a failure and back to 0 on a success', () => {
    expect(breakerRecord(active, false, { kind: 'keep' }, '7')).toEqual({ consecutive_failures: 3 });
    expect(breakerRecord(active, true, { kind: 'keep' }, null)).toEqual({ consecutive_failures: 0 });
  });

  it('open: paused by the breaker, one more opening in a row, and the retried delivery as the probe', () => {
    const decision = { kind: 'open', probeInMs: 60_000, reason: 'circuit breaker: 3 consecutive failures' } as const;
    expect(breakerRecord(active, false, decision, '7')).toEqual({
      consecutive_failures: 3,
      state: {
        state: 'paused',
        paused_by: 'breaker',
        paused_reason: decision.reason,
        breaker_opens: 1,
        probe_in_ms: 60_000,
        probe_delivery_id: '7',
      },
    });
    // A failed probe that is final: re-opened with no probe of its own (one is armed among the heads).
    expect(breakerRecord(open, false, decision, null).state).toMatchObject({
      breaker_opens: 3,
      probe_delivery_id: null,
    });
  });

  it('close: active again with the streak, the openings and the probe cleared', () => {
    expect(breakerRecord(open, true, { kind: 'close' }, null)).toEqual({
      consecutive_failures: 0,
      state: { ...noPause, state: 'active', breaker_opens: 0 },
    });
  });

  it('gone: paused until resume, without a probe, keeping the count of openings', () => {
    const reason = 'the receiver answered 410 Gone';
    expect(breakerRecord(open, false, { kind: 'gone', reason }, '7')).toEqual({
      consecutive_failures: 4,
      state: { ...noPause, state: 'paused', paused_by: 'gone', paused_reason: reason, breaker_opens: 2 },
    });
  });
});
