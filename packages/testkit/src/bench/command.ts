import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKER_CONCURRENCY, formatBench, runBench } from './bench';
import { formatLive } from './report';

/** `make bench`: measure callsync against bare Express and the naive durable ingress, in one run. */
export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '2' },
      'worker-concurrency': { type: 'string', default: String(DEFAULT_WORKER_CONCURRENCY) },
      'sustain-seconds': { type: 'string', default: '30' },
      'stale-sessions': { type: 'string', default: '2000' },
      'retell-rate': { type: 'string', default: '100' },
      out: { type: 'string' },
      /** `live`: only the live routes' phase (results to .local/bench-results.live.json unless --out). */
      only: { type: 'string' },
      /** A directory for a V8 CPU profile of the live process (where its time goes). */
      'profile-live': { type: 'string' },
      /** Count and time the live routes' Postgres statements (live-probe-server.js stands in for live-main.js). */
      'probe-live': { type: 'boolean', default: false },
    },
  });
  const positive = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got ${values[name]})`);
    return n;
  };
  const root = join(__dirname, '..', '..', '..', '..');
  if (values.only !== undefined && values.only !== 'live') throw new Error(`--only takes "live" (got ${values.only})`);
  const options = {
    root,
    seconds: positive('seconds'),
    connections: positive('connections'),
    rounds: positive('rounds'),
    workerConcurrency: positive('worker-concurrency'),
    sustainSeconds: positive('sustain-seconds'),
    staleSessions: positive('stale-sessions'),
    retellRatePerSecond: positive('retell-rate'),
    log: (l: string) => console.log(l),
    profileLiveDir: values['profile-live'],
    probeLive: values['probe-live'],
  };
  if (values.only === 'live') {
    const live = await runBench({ ...options, only: 'live' });
    // Not bench-results.json: a partial run must not replace a full one's figures.
    const out = values.out ?? join(root, '.local', 'bench-results.live.json');
    writeFileSync(out, `${JSON.stringify(live, null, 2)}\n`);
    console.log(`\n${formatLive(live.live)}\n\nresults: ${out}`);
    return 0;
  }
  const result = await runBench(options);
  const out = values.out ?? join(root, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${formatBench(result)}\n\nresults: ${out}`);
  return 0;
}
