import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import { INGRESS_NODE_FLAGS, runInBackground } from '@callsync/runtime';

/**
 * A callsync process (ingress or worker) started from its build output, with its log in a file, at
 * the lower CPU priority `make up` gives it (runtime's runInBackground): only the live process runs
 * at the normal one.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  private log: WriteStream;
  /** Starts, including restarts. */
  starts = 0;
  /** Exits nobody asked for, e.g. "worker-2 exited with code 1". */
  readonly unexpectedExits: string[] = [];
  private expectingExit = false;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    logDir: string,
    /** Flags for node itself, before the script. */
    private readonly nodeFlags: readonly string[] = [],
  ) {
    mkdirSync(logDir, { recursive: true });
    this.log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  }

  start(): void {
    this.expectingExit = false;
    const child = spawn(process.execPath, [...this.nodeFlags, this.script], {
      env: childEnvironment(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) runInBackground(child.pid);
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      for (const [marker, resolve] of this.awaited) if (text.includes(marker)) resolve();
    });
    child.on('exit', (code, signal) => {
      this.log.write(`--- ${this.name} exited (${signal ?? code})\n`);
      if (!this.expectingExit)
        this.unexpectedExits.push(`${this.name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
    });
    this.child = child;
    this.starts += 1;
  }

  private readonly awaited = new Map<string, () => void>();

  /**
   * Until the process (started since) writes `marker` to its log, or `timeoutMs` passed: e.g. a
   * worker's "worker started", which a rolling restart waits for as a deploy waits for readiness.
   */
  async logged(marker: string, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const seen = await Promise.race([
      new Promise<boolean>((resolve) => this.awaited.set(marker, () => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.awaited.delete(marker);
    return seen;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL: no chance to clean up, as in a crash or an OOM kill. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM and wait for the exit; returns the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    this.expectingExit = true;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(sig);
    return exited;
  }

  /** SIGSTOP: the process stops dead, keeping its connections and locks, as a frozen host does. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Resident memory now, in bytes (0 when not running). */
  rssBytes(): number {
    if (!this.child?.pid) return 0;
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0; // exited meanwhile
    }
  }

  close(): void {
    this.log.end();
  }
}

/** The built ingress (with its node flags) as a managed process. */
export function ingressProcess(root: string, env: Record<string, string>, logDir: string): ManagedProcess {
  return new ManagedProcess('ingress', join(root, 'apps/ingress/dist/main.js'), env, logDir, INGRESS_NODE_FLAGS);
}

/** The built worker as a managed process. */
export function workerProcess(name: string, root: string, env: Record<string, string>, logDir: string): ManagedProcess {
  return new ManagedProcess(name, join(root, 'apps/worker/dist/main.js'), env, logDir);
}
