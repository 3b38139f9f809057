import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it('reads a number with a unit into milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration(' 5m ')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses a bare number, a unit it does not know, and words', () => {
    for (const text of ['30', '5 min', '5M', '-5s', '1w', 'soon', '', '5s,5m'])
      expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('writes the largest unit that divides the value, so it reads back the same', () => {
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0s');
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 7 * 86_400_000])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
