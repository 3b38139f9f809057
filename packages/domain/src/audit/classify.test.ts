import { classify, isOverdue, type HeldState, type ListedItem } from './classify';

const ended: ListedItem = {
  subject: 'call',
  id: 'call_1',
  status: 'ended',
  analyzed: true,
  agentId: 'agent_1',
  startMs: 1_000_000,
  endMs: 1_060_000,
};
const held: HeldState = { status: 'ended', analyzed: true, unforwarded: [] };

describe('classify (the audit rule for one listed call)', () => {
  it('calls a call complete when it is final, analyzed and forwarded here', () => {
    expect(classify(ended, held)).toEqual({ kind: 'complete' });
  });

  it('leaves calls Retell has not finished in flight, with or without a session', () => {
    expect(classify({ ...ended, status: 'ongoing' }, { ...held, status: null })).toEqual({ kind: 'in_flight' });
    expect(classify({ ...ended, status: 'registered' }, { ...held, status: 'in_progress' })).toEqual({
      kind: 'in_flight',
    });
  });

  it('names the first thing missing', () => {
    expect(classify(ended, { ...held, status: null })).toMatchObject({ kind: 'gap', reason: 'no_session' });
    expect(classify(ended, { ...held, status: 'in_progress' })).toMatchObject({ kind: 'gap', reason: 'not_final' });
    expect(classify(ended, { ...held, analyzed: false })).toMatchObject({ kind: 'gap', reason: 'not_analyzed' });
    expect(classify(ended, { ...held, unforwarded: ['call_ended to destination 1: pending'] })).toMatchObject({
      kind: 'gap',
      reason: 'not_forwarded',
      detail: 'call_ended to destination 1: pending',
    });
  });

  it('does not ask for an analysis Retell does not have', () => {
    expect(classify({ ...ended, analyzed: false }, { ...held, analyzed: false })).toEqual({ kind: 'complete' });
  });

  it('takes a chat as final when it ended or errored', () => {
    const chat: ListedItem = { ...ended, subject: 'chat', id: 'chat_1', analyzed: false };
    expect(classify(chat, { ...held, status: 'ongoing' })).toMatchObject({ reason: 'not_final' });
    expect(classify(chat, { ...held, status: 'error' })).toEqual({ kind: 'complete' });
  });

  it('counts a gap as overdue only once the grace period after the end has passed', () => {
    expect(isOverdue(ended, 1_060_000 + 60_000, 120_000)).toBe(false);
    expect(isOverdue(ended, 1_060_000 + 180_000, 120_000)).toBe(true);
    expect(isOverdue({ ...ended, endMs: null }, 1_000_000 + 180_000, 120_000)).toBe(true);
  });
});
