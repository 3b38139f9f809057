import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ForwardReceiver, type ReceivedMessage } from '@callsync/fake-receiver';

/*
 * A team's receivers run in a process of their own during `make chaos`, as a team's systems do: in
 * the chaos process they would share an event loop with the load generator, the hostile phase and
 * the /metrics flood, and a receiver that answers 204 at once would take hundreds of milliseconds
 * to do it, which callsync would be blamed for. The parent steers them over IPC.
 */

/** How a receiver answers a message whose signature verified (one that did not: 401). */
export interface FixedAnswer {
  status: number;
  delayMs?: number;
}

/** What the parent learns of a receiver: what it got (bodies left out) and its most requests at once. */
export interface ReceiverReport {
  received: Omit<ReceivedMessage, 'body'>[];
  maxInFlight: number;
}

type Ask =
  | { op: 'start'; answers: FixedAnswer[] }
  | { op: 'secrets'; index: number; secrets: string[] }
  | { op: 'report'; index: number };
type Request = Ask & { id: number };

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The child's side: `node receiver-process.js` forked with IPC. */
async function serve(): Promise<void> {
  const receivers: ForwardReceiver[] = [];
  const handle = async (req: Request): Promise<unknown> => {
    switch (req.op) {
      case 'start':
        for (const a of req.answers)
          receivers.push(
            await new ForwardReceiver({
              secrets: [],
              respond: (m) => (m.verified ? { status: a.status, delayMs: a.delayMs } : 401),
            }).start(),
          );
        return receivers.map((r) => r.url);
      case 'secrets':
        receivers[req.index]!.secrets = req.secrets;
        return null;
      case 'report': {
        const r = receivers[req.index]!;
        const report: ReceiverReport = {
          received: r.received.map(({ body: _body, ...rest }) => rest),
          maxInFlight: r.maxInFlight,
        };
        return report;
      }
    }
  };
  process.on('message', (req: Request) => {
    handle(req).then(
      (value) => process.send!({ id: req.id, ok: true, value } satisfies Reply),
      (err: unknown) => process.send!({ id: req.id, ok: false, error: String(err) } satisfies Reply),
    );
  });
  // The parent gone (it crashed, or closed the channel): nothing is left to serve.
  process.on('disconnect', () => process.exit(0));
}

/** The receivers' process, seen from the chaos run. */
export class ReceiverProcess {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new Error(reply.error));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the receivers' process exited (${code})`));
      this.waiting.clear();
    });
  }

  /** Fork the process and start one receiver per answer; their URLs, in order. */
  static async start(answers: FixedAnswer[]): Promise<{ process: ReceiverProcess; urls: string[] }> {
    // The built script (tests run this file from source, which node cannot run by itself).
    const script = __filename.endsWith('.ts')
      ? join(__dirname, '..', '..', 'dist', 'chaos', 'receiver-process.js')
      : __filename;
    const child = fork(script, ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const host = new ReceiverProcess(child);
    const urls = (await host.ask({ op: 'start', answers })) as string[];
    return { process: host, urls };
  }

  async setSecrets(index: number, secrets: string[]): Promise<void> {
    await this.ask({ op: 'secrets', index, secrets });
  }

  async report(index: number): Promise<ReceiverReport> {
    return (await this.ask({ op: 'report', index })) as ReceiverReport;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }

  private ask(req: Ask): Promise<unknown> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...req, id });
    });
  }
}

/** Messages that verified, by webhook-id, as ForwardReceiver.byId gives them. */
export function acceptedById(report: ReceiverReport): Map<string, ReceiverReport['received']> {
  const map = new Map<string, ReceiverReport['received']>();
  for (const m of report.received) if (m.status >= 200 && m.status < 300) map.set(m.id, [...(map.get(m.id) ?? []), m]);
  return map;
}

if (require.main === module && process.argv[2] === 'serve') void serve();
