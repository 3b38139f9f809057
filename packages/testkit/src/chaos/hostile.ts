import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { signRetellBody } from '@callsync/retell';
import { waitUntil } from '@callsync/runtime';
import { ManagedProcess } from '../managed-process';
import { freePort } from '../ports';
import { sleep, type ChaosRun } from './faults';

/*
 * The hostile phase of `make chaos`, while the signed load flows: anyone on the internet can reach
 * the webhook URL and the dashboard, so the run sends what they could.
 *   - `bodies` concurrent unsigned POSTs of 5 MB to the webhook route;
 *   - `slow` connections with a plausible (fresh, well-formed, forged) signature that trickle their
 *     body a byte at a time;
 *   - a burst of wrong dashboard passwords.
 * The ingress must stay within its memory budget and keep answering Retell's deliveries.
 */

export interface HostileOptions {
  /** Concurrent unsigned 5 MB bodies. Default 1000. */
  bodies?: number;
  /** Slow connections that trickle bytes. Default 500. */
  slow?: number;
  /** Wrong dashboard passwords, one after another. Default 40. */
  wrongPasswords?: number;
  /** When it starts, as a share of the load's duration. Default 0.05. */
  at?: number;
}

export interface HostileReport {
  /** The ingress's peak resident memory from the phase's start until it ended, in MB. */
  ingressPeakRssMb: number;
  /** Signed deliveries answered other than 2xx from the phase's start on, outside the planned outages (chaos.ts). */
  signedNon2xxOutsideOutages: number;
  /** Wrong dashboard passwords answered 429. */
  dashboard429: number;
  unsignedSent: number;
  /** Unsigned bodies answered 401 (the rest: connection closed before the answer was read). */
  unsigned401: number;
  slowSent: number;
  /** Slow connections answered 408 or closed by the ingress. */
  slowCut: number;
  /** The phase's window, for telling which signed answers fell inside it. */
  from: number;
  to: number;
}

const FIVE_MB = Buffer.alloc(5 * 1024 * 1024, 0x20);

/** Open a connection, send `head` and then `send(socket)`; the status line of the answer, or 0 if none came. */
function exchange(port: number, head: string, send: (s: Socket) => void, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let status = 0;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (status) return;
      text += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) status = Number(m[1]);
    });
    socket.on('close', done);
    socket.write(head);
    send(socket);
  });
}

function webhookHead(path: string, length: number, signature?: string): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
    `${signature ? `X-Retell-Signature: ${signature}\r\n` : ''}\r\n`
  );
}

async function startDashboard(run: ChaosRun, logDir: string): Promise<{ url: string; process: ManagedProcess }> {
  const port = await freePort();
  const env = {
    // PORT is the ingress's; the dashboard listens on DASHBOARD_PORT.
    ...run.services.processEnv('key_chaos_run_only', port),
    DASHBOARD_PORT: String(port),
    DASHBOARD_USER: 'oncall',
    DASHBOARD_PASSWORD: 'the-chaos-dashboard-password',
  };
  const process = new ManagedProcess('dashboard', join(run.options.root, 'apps/dashboard/dist/main.js'), env, logDir);
  process.start();
  const url = `http://127.0.0.1:${port}`;
  const up = () =>
    fetch(`${url}/healthz`).then(
      (r) => (r.ok ? true : undefined),
      () => undefined,
    );
  if (!(await waitUntil(up, { timeoutMs: 10_000 }))) throw new Error(`dashboard not up; see ${logDir}/dashboard.log`);
  return { url, process };
}

/** The phase, run beside the signed load; `port` is the ingress's public port. */
export async function hostilePhase(
  run: ChaosRun,
  port: number,
  logDir: string,
  o: HostileOptions = {},
): Promise<Omit<HostileReport, 'signedNon2xxOutsideOutages'>> {
  const bodies = o.bodies ?? 1000;
  const slow = o.slow ?? 500;
  const dashboard = await startDashboard(run, logDir);
  try {
    await sleep(Math.max(0, run.durationMs * (o.at ?? 0.05) - (Date.now() - run.loadStart)));
    const from = Date.now();
    let peak = 0;
    const sample = () => (peak = Math.max(peak, run.ingress.rssBytes()));
    const sampler = setInterval(sample, 100);
    run.say(
      `hostile: ${bodies} unsigned 5 MB bodies, ${slow} slow connections, ${o.wrongPasswords ?? 40} wrong dashboard passwords`,
    );
    try {
      const path = '/api/webhooks/retell';
      const unsigned = Array.from({ length: bodies }, () =>
        exchange(port, webhookHead(path, FIVE_MB.length), (s) => s.write(FIVE_MB), 30_000),
      );
      // A signature that looks right and is fresh, made for another body: only the HMAC over the
      // whole body can tell, so these are read (a byte at a time) until the body deadline.
      const forged = signRetellBody('{"not":"this body"}', 'key_chaos_run_only');
      const trickle = Array.from({ length: slow }, () =>
        exchange(
          port,
          webhookHead(path, FIVE_MB.length, forged),
          (s) => {
            const drip = setInterval(() => (s.writable ? s.write(' ') : clearInterval(drip)), 250);
            s.once('close', () => clearInterval(drip));
          },
          30_000,
        ),
      );
      let dashboard429 = 0;
      const auth = `Basic ${Buffer.from('oncall:a wrong guess').toString('base64')}`;
      for (let i = 0; i < (o.wrongPasswords ?? 40); i++) {
        const res = await fetch(`${dashboard.url}/console/calls`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        if (res.status === 429) dashboard429 += 1;
      }
      const [unsignedStatuses, slowStatuses] = await Promise.all([Promise.all(unsigned), Promise.all(trickle)]);
      sample();
      const to = Date.now();
      const report = {
        ingressPeakRssMb: Math.round(peak / 1048576),
        dashboard429,
        unsignedSent: bodies,
        unsigned401: unsignedStatuses.filter((s) => s === 401).length,
        slowSent: slow,
        slowCut: slowStatuses.filter((s) => s === 408 || s === 0).length,
        from,
        to,
      };
      run.say(
        `hostile: done; ingress peak RSS ${report.ingressPeakRssMb} MB, ${report.unsigned401} unsigned answered 401, ` +
          `${report.slowCut} slow cut off, ${dashboard429} dashboard 429s`,
      );
      return report;
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await dashboard.process.stop().catch(() => null);
    dashboard.process.close();
  }
}
