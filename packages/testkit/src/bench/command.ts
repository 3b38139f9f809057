import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKER_CONCURRENCY, formatBench, runBench } from './bench';

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
    },
  });
  const positive = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got ${values[name]})`);
    return n;
  };
  const root = join(__dirname, '..', '..', '..', '..');
  const result = await runBench({
    root,
    seconds: positive('seconds'),
    connections: positive('connections'),
    rounds: positive('rounds'),
    workerConcurrency: positive('worker-concurrency'),
    sustainSeconds: positive('sustain-seconds'),
    staleSessions: positive('stale-sessions'),
    retellRatePerSecond: positive('retell-rate'),
    log: (l) => console.log(l),
  });
  const out = values.out ?? join(root, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${formatBench(result)}\n\nresults: ${out}`);
  return 0;
}
