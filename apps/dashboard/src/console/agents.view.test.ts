import { callsHref, keep, versionChart } from './agents.view';

describe('agent links', () => {
  it("keep the page's company and range, and link a version to its calls", () => {
    const q = { company: 'Weber', from: '2026-12-01T00:00', to: '', agent: 'ignored' };
    expect(keep(q)).toBe('?company=Weber&from=2026-12-01T00%3A00');
    expect(keep({})).toBe('');
    expect(callsHref('agent a', 3, q)).toBe(
      '/console/calls?agent=agent+a&version=3&company=Weber&from=2026-12-01T00%3A00',
    );
  });
});

describe('versionChart', () => {
  const day = (d: string) => new Date(`2026-12-${d}T00:00:00Z`);
  const seconds = (d: string) => day(d).getTime() / 1000;
  const to = new Date('2026-12-06T12:00:00Z');

  it('runs from the first day with calls to the end, null where a version had no data', () => {
    const chart = versionChart(
      [2, 1],
      [
        { agent_version: 1, day: day('04'), calls: 10, analyzed: 8, successful: 6, e2e_p50_median: 900 },
        { agent_version: 2, day: day('06'), calls: 3, analyzed: 0, successful: 0, e2e_p50_median: null },
        { agent_version: 9, day: day('05'), calls: 1, analyzed: 1, successful: 1, e2e_p50_median: 1 },
      ],
      { from: day('01'), to, fromGiven: false },
    );
    expect(chart.x).toEqual([seconds('04'), seconds('05'), seconds('06')]);
    expect(chart.versions).toEqual([
      { version: 2, calls: [0, 0, 3], success: [null, null, null], e2e: [null, null, null] },
      { version: 1, calls: [10, 0, 0], success: [75, null, null], e2e: [900, null, null] },
    ]);
  });

  it("starts at the range's start when the page gives one, and at its end when nothing was called", () => {
    expect(versionChart([1], [], { from: day('05'), to, fromGiven: true }).x).toEqual([seconds('05'), seconds('06')]);
    expect(versionChart([1], [], { from: day('01'), to, fromGiven: false }).x).toEqual([seconds('06')]);
  });
});
