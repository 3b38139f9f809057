import { compareVersions, MIN_SAMPLE, twoProportionZ, type VersionSample } from './compare-versions';

const sample = (version: number, success: [number, number], e2e?: VersionSample['e2e']): VersionSample => ({
  version,
  success: { hits: success[0], n: success[1] },
  errors: { hits: 0, n: success[1] },
  e2e,
});

describe('compareVersions: flags only differences beyond noise', () => {
  it('the z statistic matches a hand computation (60/100 vs 45/100: z = -2.12)', () => {
    expect(twoProportionZ({ hits: 60, n: 100 }, { hits: 45, n: 100 })).toBeCloseTo(-2.124, 3);
    expect(twoProportionZ({ hits: 0, n: 0 }, { hits: 1, n: 2 })).toBeNull();
  });

  it('a success rate drop of 15 points on 100 calls each is flagged worse; the same rates on 20 calls are not', () => {
    expect(compareVersions(sample(7, [60, 100]), sample(8, [45, 100]))).toEqual([
      { metric: 'success_rate', verdict: 'worse', evidence: 'z = -2.12' },
    ]);
    expect(compareVersions(sample(7, [12, 20]), sample(8, [9, 20]))).toEqual([]);
  });

  it('a small difference on many calls is noise until it passes 1.96 (52% vs 50% of 1000: z = 0.89)', () => {
    expect(compareVersions(sample(7, [500, 1000]), sample(8, [520, 1000]))).toEqual([]);
    expect(compareVersions(sample(7, [500, 1000]), sample(8, [560, 1000]))[0]).toMatchObject({ verdict: 'better' });
  });

  it('below the minimum sample nothing is flagged, however large the gap', () => {
    expect(compareVersions(sample(7, [MIN_SAMPLE - 1, MIN_SAMPLE - 1]), sample(8, [0, 100]))).toEqual([]);
  });

  it('latency: flagged when the medians’ 95% intervals do not overlap, silent when they do', () => {
    const v7 = sample(7, [50, 100], { n: 100, median: 820, low: 800, high: 850 });
    expect(compareVersions(v7, sample(8, [50, 100], { n: 100, median: 950, low: 900, high: 990 }))).toEqual([
      { metric: 'e2e_p50_median', verdict: 'worse', evidence: '95% intervals 800-850 ms vs 900-990 ms' },
    ]);
    expect(compareVersions(v7, sample(8, [50, 100], { n: 100, median: 860, low: 840, high: 900 }))).toEqual([]);
    expect(compareVersions(v7, sample(8, [50, 100], { n: 10, median: 2000, low: 1900, high: 2100 }))).toEqual([]);
    expect(compareVersions(v7, sample(8, [50, 100], { n: 100, median: 700, low: 650, high: 720 }))[0]).toMatchObject({
      verdict: 'better',
    });
  });

  it('errors: a higher error rate is worse', () => {
    const older = { ...sample(7, [50, 100]), errors: { hits: 2, n: 100 } };
    const newer = { ...sample(8, [50, 100]), errors: { hits: 15, n: 100 } };
    expect(compareVersions(older, newer)).toEqual([
      expect.objectContaining({ metric: 'error_rate', verdict: 'worse' }),
    ]);
  });
});
