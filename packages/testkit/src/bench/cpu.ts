import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) of a process so far, in µs; 0 once it is gone. Linux /proc. */
export function processCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The pids of one Postgres server (postmaster and all its backends) and of one Redis server, by port. */
export function servicePids(pgPort: number, redisPort: number): { postgres: number[]; redis: number[] } {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const postmaster = all.filter((pid) => {
    const c = cmdline(pid);
    return c.includes('postgres') && c.includes(` -p ${pgPort} `);
  });
  const postgres = all.filter((pid) => postmaster.includes(pid) || postmaster.includes(parentOf(pid)));
  const redis = all.filter((pid) => /redis-server/.test(cmdline(pid)) && cmdline(pid).includes(`:${redisPort}`));
  return { postgres, redis };
}

/** CPU used by groups of processes between start() and stop(), in µs. */
export class CpuMeter {
  private readonly startMicros: Record<string, number>;

  constructor(private readonly groups: Record<string, () => number[]>) {
    this.startMicros = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, sum(pids())]));
  }

  stop(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.groups).map(([name, pids]) => [name, sum(pids()) - this.startMicros[name]!]),
    );
  }
}

function sum(pids: number[]): number {
  return pids.reduce((total, pid) => total + processCpuMicros(pid), 0);
}
