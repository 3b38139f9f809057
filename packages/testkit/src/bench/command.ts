import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBench, runBench } from './bench';

/** `make bench`: measure ingress, workers, latency and memory against a bare-Express baseline. */
export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      'worker-concurrency': { type: 'string', default: '16' },
      out: { type: 'string' },
    },
  });
  const root = join(__dirname, '..', '..', '..', '..');
  const result = await runBench({
    root,
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    workerConcurrency: Number(values['worker-concurrency']),
    log: (l) => console.log(l),
  });
  const out = values.out ?? join(root, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${formatBench(result)}\n\nresults: ${out}`);
  return 0;
}
