import { spawn } from 'node:child_process';
import { getPriority } from 'node:os';
import { BACKGROUND_NICE, runInBackground } from './priority';

describe('runInBackground', () => {
  it('lowers a child process to the background nice value', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      expect(getPriority(child.pid!)).toBe(getPriority());
      expect(runInBackground(child.pid!)).toBe(true);
      expect(getPriority(child.pid!)).toBe(Math.max(getPriority(), BACKGROUND_NICE));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says false for a process that is gone, and does not throw', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(runInBackground(child.pid!)).toBe(false);
  });
});
