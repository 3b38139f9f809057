import { CONFIRM_ABOVE, confirmationOf, replayNotice, replaySelectionOf } from './events.view';

describe('replaySelectionOf', () => {
  it('selects one failed event by its id', () => {
    expect(replaySelectionOf({ id: '42', status: 'processed' }, undefined)).toEqual({
      statuses: ['failed'],
      eventIds: ['42'],
      limit: 1,
    });
    expect(() => replaySelectionOf({ id: '4 2' }, undefined)).toThrow('id: "4 2" is not an event id');
  });

  it("selects every failed event matching the form's filter, whatever status the form names", () => {
    expect(
      replaySelectionOf({ status: 'processed', event: 'call_analyzed', from: '2026-12-06T10:00', to: '' }, '3'),
    ).toEqual({
      statuses: ['failed'],
      eventTypes: ['call_analyzed'],
      companyId: '3',
      since: new Date('2026-12-06T10:00:00Z'),
      until: undefined,
      limit: 10_000,
    });
    expect(() => replaySelectionOf({ to: 'later' }, undefined)).toThrow('to: "later" is not a date and time');
  });
});

describe('confirmationOf', () => {
  it(`asks before replaying more than ${CONFIRM_ABOVE} events, repeating the filter's fields`, () => {
    const form = { csrf: 't', status: 'failed', event: 'call_ended', company: 'Weber', from: '', to: undefined };
    expect(confirmationOf(form, CONFIRM_ABOVE)).toBeUndefined();
    expect(confirmationOf(form, CONFIRM_ABOVE + 1)).toEqual({
      fields: [
        ['event', 'call_ended'],
        ['company', 'Weber'],
      ],
    });
    expect(confirmationOf({ ...form, confirm: 'yes' }, 5000)).toBeUndefined();
  });
});

describe('replayNotice', () => {
  it('says how many were replayed, only after a replay', () => {
    expect(replayNotice({ replayed: '3' })).toBe('3 event(s) replayed: a worker applies them now.');
    expect(replayNotice({})).toBeUndefined();
  });
});
