import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/*
 * The live process answers Retell during the call (inbound routing, functions): a caller hears every
 * millisecond it waits for a CPU. The ingress, the workers and the console only delay records. On one
 * machine they run at a lower CPU priority (nice 10), so when webhooks arrive faster than the CPUs
 * can take them, the kernel gives the live process its turn first and the backlog waits instead of
 * the caller (docs/during-the-call.md, "The CPU goes to the caller first"). Compose gives the live
 * container more CPU shares; Kubernetes, a CPU request of its own.
 */

/** The nice value of the processes that are not on a live call's path. */
export const BACKGROUND_NICE = 10;

/**
 * A process's threads. On Linux a priority is per thread (setpriority on a pid sets only its main
 * thread), and a thread starts with its creator's: Node's V8 and libuv threads may exist already.
 */
function threadsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [pid];
  }
}

/**
 * Run `pid` (default: this process), every thread of it, at BACKGROUND_NICE, or lower if it already
 * is. Lowering a priority needs no privilege; a process that is gone, or a platform without
 * priorities, is left as it is: false.
 */
export function runInBackground(pid: number = process.pid): boolean {
  try {
    setPriority(pid, Math.max(getPriority(pid), BACKGROUND_NICE));
  } catch {
    return false;
  }
  for (const tid of threadsOf(pid)) {
    if (tid === pid) continue;
    try {
      setPriority(tid, Math.max(getPriority(tid), BACKGROUND_NICE));
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return true;
}
