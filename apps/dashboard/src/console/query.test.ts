import { nextPage, orBadInput, PAGE, parseAfter, parseCallQuery, parseEventQuery, parseTime } from './query';

describe('parseTime', () => {
  it('reads a datetime-local value as UTC, and any full date', () => {
    expect(parseTime('2026-12-06T10:30', 'from')).toEqual(new Date('2026-12-06T10:30:00Z'));
    expect(parseTime('2026-12-06T10:30:00+01:00', 'to')).toEqual(new Date('2026-12-06T09:30:00Z'));
    expect(parseTime('', 'from')).toBeUndefined();
    expect(parseTime(undefined, 'from')).toBeUndefined();
  });

  it('names the field of a value that is not a date', () => {
    expect(() => parseTime('yesterday', 'to')).toThrow(new RangeError('to: "yesterday" is not a date and time'));
  });
});

describe('keyset paging', () => {
  const last = { at: new Date('2026-12-06T10:00:00.000Z'), id: '42' };

  it('links a full page to the next, keeping the filter and replacing the cursor', () => {
    const next = nextPage('/console/calls', { status: 'ended', after: 'old_1', digits: undefined }, PAGE, last);
    expect(next).toBe('/console/calls?status=ended&after=2026-12-06T10%3A00%3A00.000Z_42');
    expect(parseAfter(new URL(next!, 'http://x').searchParams.get('after'))).toEqual(last);
  });

  it('gives a short page, or one without a last row, no next link', () => {
    expect(nextPage('/console/events', {}, PAGE - 1, last)).toBeUndefined();
    expect(nextPage('/console/events', {}, PAGE, undefined)).toBeUndefined();
  });

  it('reads a malformed cursor as the first page', () => {
    for (const bad of [undefined, '', 'abc', 'notadate_12', '2026-12-06T10:00:00Z_x'])
      expect(parseAfter(bad)).toBeUndefined();
  });
});

describe('parseCallQuery', () => {
  it('turns the calls form into a search of one page', () => {
    expect(parseCallQuery({ id: '', status: 'ended', agent: 'agent_a', version: '3', digits: '6218' })).toEqual({
      id: undefined,
      status: 'ended',
      givenUp: undefined,
      agentId: 'agent_a',
      agentVersion: 3,
      callerDigits: '6218',
      from: undefined,
      to: undefined,
      after: undefined,
      limit: PAGE,
    });
  });

  it('maps "given up" to in_progress calls no longer polled, not to a status', () => {
    expect(parseCallQuery({ status: 'given_up' })).toMatchObject({ status: undefined, givenUp: true });
  });

  it('names a bad caller, version or time', () => {
    expect(() => parseCallQuery({ digits: 'x' })).toThrow('caller: give the last 2 to 15 digits');
    expect(() => parseCallQuery({ version: 'v2' })).toThrow('version: give an agent version number');
    expect(() => parseCallQuery({ from: 'soon' })).toThrow('from: "soon" is not a date and time');
  });
});

describe('parseEventQuery', () => {
  it('reads status, event type and range', () => {
    expect(parseEventQuery({ status: 'failed', event: 'call_ended', from: '2026-12-06T10:30' })).toEqual({
      statuses: ['failed'],
      eventTypes: ['call_ended'],
      from: new Date('2026-12-06T10:30:00Z'),
      to: undefined,
    });
    expect(parseEventQuery({})).toEqual({ statuses: undefined, eventTypes: undefined, from: undefined, to: undefined });
  });

  it('names an unknown status and the ones there are', () => {
    expect(() => parseEventQuery({ status: 'lost' })).toThrow(
      'status: "lost" is not one of pending, processed, failed, skipped',
    );
  });
});

describe('orBadInput', () => {
  it("gives a RangeError's message with the fallback, and lets any other error through", async () => {
    expect(await orBadInput(async () => 1, 0)).toEqual({ value: 1 });
    expect(
      await orBadInput(async () => {
        throw new RangeError('company: no company "x"');
      }, 0),
    ).toEqual({ value: 0, error: 'company: no company "x"' });
    await expect(orBadInput(async () => Promise.reject(new Error('connection refused')), 0)).rejects.toThrow(
      'connection refused',
    );
  });
});
