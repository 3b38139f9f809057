import { splitPruned, type ReplayRow } from './replay-events';

const row = (id: string, pruned = false): ReplayRow => ({
  id,
  event_type: 'call_ended',
  call_id: `call_${id}`,
  chat_id: null,
  status: 'failed',
  attempts: 1,
  error: 'boom',
  created_at: new Date('2026-12-01T10:00:00Z'),
  pruned_at: pruned ? new Date('2026-12-02T00:00:00Z') : null,
});

describe('splitPruned', () => {
  it('keeps the rows with a payload, in order, and counts the ones retention pruned', () => {
    const found = splitPruned([row('1'), row('2', true), row('3'), row('4', true)], 100);
    expect(found.rows.map((r) => r.id)).toEqual(['1', '3']);
    expect(found.pruned).toBe(2);
    expect(found.atLimit).toBe(false);
  });

  it('says when the selection stopped at its limit, pruned rows included', () => {
    expect(splitPruned([row('1'), row('2', true)], 2)).toMatchObject({ pruned: 1, atLimit: true });
    expect(splitPruned([], 10)).toEqual({ rows: [], pruned: 0, atLimit: false });
  });
});
