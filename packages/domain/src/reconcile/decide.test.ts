import type { ProviderCall } from '../events/provider';
import { decide, decideChat } from './decide';

const call = (call_status: string, analysis?: Record<string, unknown>): { found: true; call: ProviderCall } => ({
  found: true,
  call: { call_id: 'c1', call_status, ...(analysis ? { call_analysis: analysis } : {}) },
});
const analysis = { call_summary: 'booked', call_successful: true };

describe('decide: what one answer from Retell means', () => {
  it('not found (404/422): counts the try, applies nothing', () => {
    expect(decide('stale', { found: false, status: 422 })).toEqual({
      outcome: 'not_found',
      detail: 'HTTP 422',
      apply: [],
      record: 'not_found',
    });
  });

  it('a stale call that is still ongoing: records the check', () => {
    expect(decide('stale', call('ongoing'))).toEqual({
      outcome: 'ongoing',
      detail: 'ongoing',
      apply: [],
      record: 'checked',
    });
    expect(decide('stale', call('registered'))).toMatchObject({ outcome: 'ongoing', record: 'checked' });
  });

  it('a stale call that finished: applies call_ended, and call_analyzed when Retell has the analysis', () => {
    expect(decide('stale', call('ended'))).toEqual({
      outcome: 'ended',
      detail: 'ended',
      apply: ['call_ended'],
      record: 'checked',
    });
    expect(decide('stale', call('error', analysis))).toEqual({
      outcome: 'ended',
      detail: 'error',
      apply: ['call_ended', 'call_analyzed'],
      record: 'checked',
    });
    expect(decide('stale', call('not_connected'))).toMatchObject({ outcome: 'ended', apply: ['call_ended'] });
  });

  it('a finished call asked for its analysis: applies it when there, else counts the check', () => {
    expect(decide('analysis', call('ended', analysis))).toEqual({
      outcome: 'analyzed',
      detail: 'ended',
      apply: ['call_analyzed'],
    });
    expect(decide('analysis', call('ended'))).toEqual({
      outcome: 'no_analysis',
      detail: 'ended',
      apply: [],
      record: 'no_analysis',
    });
  });

  it('a call asked for by id: the whole end when Retell has it, else as a stale call', () => {
    expect(decide('requested', call('ended', analysis))).toEqual({
      outcome: 'ended',
      detail: 'ended',
      apply: ['call_ended', 'call_analyzed'],
    });
    expect(decide('requested', call('ended'))).toEqual({
      outcome: 'ended',
      detail: 'ended',
      apply: ['call_ended'],
      record: 'checked',
    });
    expect(decide('requested', call('ongoing'))).toMatchObject({ outcome: 'ongoing', record: 'checked' });
  });
});

describe('decideChat', () => {
  const chat = (chat_status: string, chat_analysis?: Record<string, unknown>) => ({
    found: true as const,
    chat: { chat_id: 'h1', chat_status, ...(chat_analysis ? { chat_analysis } : {}) },
  });

  it('applies an ended chat with its analysis, and without it when there is none yet', () => {
    expect(decideChat(chat('ended', { chat_successful: true }))).toEqual({
      outcome: 'ended',
      detail: 'ended',
      apply: ['chat_ended', 'chat_analyzed'],
      record: 'checked',
    });
    expect(decideChat(chat('error')).apply).toEqual(['chat_ended']);
  });

  it('leaves an ongoing chat and counts an unknown one', () => {
    expect(decideChat(chat('ongoing'))).toMatchObject({ outcome: 'ongoing', apply: [], record: 'checked' });
    expect(decideChat({ found: false, status: 422 })).toMatchObject({ outcome: 'not_found', record: 'not_found' });
  });
});
