import { LIFECYCLE_RANK, mergeSession, patchFromEvent, type SessionState } from './call-state';
import type { LifecycleEvent } from '../events/event-types';
import type { RetellCall } from '../events/call';

const t0 = 1_761_300_000_000;
const base = {
  call_id: 'c1',
  agent_id: 'agent_1',
  agent_version: 3,
  call_type: 'phone_call',
  direction: 'inbound',
  from_number: '+491604366218',
  to_number: '+493033081738',
};
const calls: Record<LifecycleEvent, RetellCall> = {
  call_started: { ...base, call_status: 'ongoing', start_timestamp: t0 },
  call_ended: {
    ...base,
    call_status: 'ended',
    start_timestamp: t0,
    end_timestamp: t0 + 61_000,
    duration_ms: 61_000,
    disconnection_reason: 'user_hangup',
    transcript: 'Agent: Hallo',
    call_cost: { combined_cost: 12.5 },
  },
  call_analyzed: {
    ...base,
    call_status: 'ended',
    start_timestamp: t0,
    end_timestamp: t0 + 61_000,
    duration_ms: 61_000,
    disconnection_reason: 'user_hangup',
    transcript: 'Agent: Hallo',
    call_analysis: { call_successful: true },
    call_cost: { combined_cost: 13.1 },
  },
};
const at = new Date(t0 + 100_000);
const patch = (e: LifecycleEvent) => patchFromEvent(e, calls[e], at, '1');

function permutations<T>(xs: T[]): T[][] {
  return xs.length <= 1
    ? [xs]
    : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('call state machine', () => {
  it('gives the same session for every order of started/ended/analyzed', () => {
    const orders = permutations(['call_started', 'call_ended', 'call_analyzed'] as LifecycleEvent[]);
    expect(orders).toHaveLength(6);
    const results = orders.map((o) => o.reduce<SessionState | null>((s, e) => mergeSession(s, patch(e)), null));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]).toMatchObject({
      call_status: 'ended',
      duration_ms: 61_000,
      analysis: { call_successful: true },
      lifecycle_rank: 3,
      from_number: '+491604366218',
      cost_cents: 13.1,
    });
  });

  it('never moves a finished call back to in_progress', () => {
    const ended = mergeSession(null, patch('call_ended'));
    expect(mergeSession(ended, patch('call_started')).call_status).toBe('ended');
  });

  it('keeps error and not_connected from Retell', () => {
    const p = patchFromEvent(
      'call_ended',
      { call_id: 'c2', call_status: 'not_connected', disconnection_reason: 'dial_failed' },
      at,
      null,
    );
    expect(mergeSession(null, p)).toMatchObject({
      call_status: 'not_connected',
      disconnection_reason: 'dial_failed',
      started_at: null,
    });
  });

  it('takes the receive time as start when call_started has no start_timestamp', () => {
    const p = patchFromEvent('call_started', { call_id: 'c3' }, at, null);
    expect(p.started_at).toEqual(at);
    expect(p.rank).toBe(LIFECYCLE_RANK.call_started);
  });

  it('lets a lower-ranked event fill only empty fields', () => {
    const analyzed = mergeSession(
      null,
      patchFromEvent('call_analyzed', { call_id: 'c4', call_analysis: { x: 1 } }, at, null),
    );
    const withStart = mergeSession(analyzed, patch('call_started'));
    expect(withStart.from_number).toBe('+491604366218');
    expect(withStart.call_status).toBe('ended');
    expect(withStart.lifecycle_rank).toBe(3);
  });
});
