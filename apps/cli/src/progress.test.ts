import { ProgressBar } from './progress';
import { parseDuration } from './duration';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    out: { isTTY, write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream,
    text: () => chunks.join(''),
  };
}

describe('ProgressBar', () => {
  it('draws a bar on a terminal and keeps it below logged lines', () => {
    const s = stream(true);
    const bar = new ProgressBar(s.out);
    bar.update(1, 4, 'ended 1');
    bar.log('call_x: FAILED');
    bar.update(4, 4);
    bar.done();
    expect(s.text()).toContain('[########......................] 1/4 ended 1');
    expect(s.text()).toContain('\r\x1b[Kcall_x: FAILED\n');
    expect(s.text()).toContain('[##############################] 4/4');
    expect(s.text().endsWith('\n')).toBe(true);
  });

  it('prints only the plain lines when not on a terminal', () => {
    const s = stream(false);
    const bar = new ProgressBar(s.out);
    bar.update(1, 4);
    bar.log('call_x: ended');
    bar.done();
    expect(s.text()).toBe('call_x: ended\n');
  });
});

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days as minutes', () => {
    expect(parseDuration('90s', '--x')).toBe(1.5);
    expect(parseDuration('10m', '--x')).toBe(10);
    expect(parseDuration('2h', '--x')).toBe(120);
    expect(parseDuration('7d', '--x')).toBe(10080);
    expect(parseDuration('15', '--x')).toBe(15);
    expect(() => parseDuration('soon', '--older-than')).toThrow(/--older-than: "soon" is not a duration/);
  });
});
