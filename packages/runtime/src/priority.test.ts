import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { waitUntil } from './async';
import { BACKGROUND_NICE, runInBackground } from './priority';

describe('runInBackground', () => {
  it('lowers a running child, every thread of it, to the background nice value', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      // Until Node's own threads (V8's platform workers, libuv's) are up.
      const tasks = `/proc/${child.pid!}/task`;
      if (existsSync(tasks))
        await waitUntil(async () => (readdirSync(tasks).length > 4 ? true : undefined), {
          timeoutMs: 5_000,
          intervalMs: 20,
        });
      expect(getPriority(child.pid!)).toBe(getPriority());
      expect(runInBackground(child.pid!)).toBe(true);
      const want = Math.max(getPriority(), BACKGROUND_NICE);
      expect(getPriority(child.pid!)).toBe(want);
      if (existsSync(tasks)) {
        const threads = readdirSync(tasks).map(Number);
        expect(threads.length).toBeGreaterThan(1);
        // Before, only the main thread was lowered: V8's and libuv's threads kept the normal priority.
        expect(threads.map((tid) => getPriority(tid))).toEqual(threads.map(() => want));
      }
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
