import { chartsData, chartWindows, toSeries } from './charts';

describe('toSeries', () => {
  it('puts every step on the x axis, zero where a label has no point, one series per label in order', () => {
    const points = [
      { x: 120, label: 'processed', value: 5 },
      { x: 0, label: 'failed', value: 1 },
      { x: 60, label: 'processed', value: 2 },
    ];
    expect(toSeries(points, 0, 180, 60)).toEqual({
      x: [0, 60, 120, 180],
      series: [
        { label: 'failed', values: [1, 0, 0, 0] },
        { label: 'processed', values: [0, 2, 5, 0] },
      ],
    });
  });

  it('leaves out points off the axis', () => {
    expect(toSeries([{ x: 30, label: 'a', value: 9 }], 0, 60, 60).series).toEqual([{ label: 'a', values: [0, 0] }]);
  });
});

describe('chartsData', () => {
  // 2026-12-06 10:30:45 UTC
  const now = Date.parse('2026-12-06T10:30:45Z');
  const minute = Date.parse('2026-12-06T10:30:00Z') / 1000;
  const today = Date.parse('2026-12-06T00:00:00Z') / 1000;

  it('reads 24 hours of events and 14 days of calls', () => {
    expect(chartWindows(now)).toEqual({
      events: new Date('2026-12-05T10:30:45Z'),
      calls: new Date('2026-11-22T10:30:45Z'),
    });
  });

  it('charts events per minute over the last day and calls per day over the last 14, by label', () => {
    const data = chartsData(
      [{ minute: new Date('2026-12-06T10:29:00Z'), status: 'processed', events: 7 }],
      [
        { day: '2026-12-06', company: 'Weber', outcome: 'successful', calls: 3 },
        { day: '2026-11-23', company: 'unmapped', outcome: 'in progress', calls: 1 },
      ],
      now,
    );
    expect(data.eventsRange).toEqual([minute - 86400, minute + 60]);
    expect(data.events.x).toHaveLength(24 * 60 + 1);
    expect(data.events.x.at(-1)).toBe(minute);
    expect(data.events.series).toEqual([{ label: 'processed', values: expect.any(Array) }]);
    expect(data.events.series[0]!.values.at(-2)).toBe(7);
    expect(data.events.series[0]!.values.filter((v) => v !== 0)).toEqual([7]);

    expect(data.callsRange).toEqual([today - 13.5 * 86400, today + 0.5 * 86400]);
    expect(data.calls.x).toHaveLength(14);
    expect(data.calls.series).toEqual([
      { label: 'Weber · successful', values: [...Array(13).fill(0), 3] },
      { label: 'unmapped · in progress', values: [1, ...Array(13).fill(0)] },
    ]);
  });
});
