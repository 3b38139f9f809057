import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chaosResults, formatChaos, runChaos } from './chaos';

export const CHAOS_USAGE = `usage: make chaos [ARGS="..."]

Run ingress + workers on a throwaway Postgres and Redis, send signed Retell-like deliveries
(127.0.0.1 only), SIGKILL workers, freeze one, restart Redis, crash Postgres for a while, lock
webhook_events, flood /metrics, forward to a flaky destination, then check that every acknowledged
event was processed exactly once in effect and every applied event forwarded once. Exits 1 on any loss.

  --events <n>               deliveries to send (default 20000)
  --workers <n>              worker processes (default 3)
  --duration-seconds <s>     spread the load over this long (default: n / 200, at least 20)
  --pg-outage-seconds <s>    how long Postgres is down (default 30)
  --kill-every-seconds <s>   SIGKILL a random worker this often (default 4; 0 = never)
  --pg-outage-seconds 0      no Postgres outage
  --no-redis-restart         leave Redis alone
  --rolling-restart          also restart the workers one by one with SIGTERM, as a deploy does
  --freeze-seconds <s>       freeze one worker with SIGSTOP this long mid-work, then resume it (default 60; 0 = never)
  --lock-seconds <s>         lock webhook_events this long after the outage; the ingress must answer only
                             fast 503s and stay within its memory budget (default 20; 0 = never)
  --destination-down-seconds <s>  the forwarding destination (500 a third of the time) answers 503 to
                             everything this long (default 30; 0 = never)
  --no-metrics-flood         do not scrape the ingress's /metrics from 8 loops during the load
  --no-hostile               leave out the hostile phase (1000 unsigned 5 MB bodies, 500 slow
                             connections, a burst of wrong dashboard passwords while the load flows)
  --functions                also call custom functions beside the load (a heavy-tailed function with a turn
                             budget, Retell-style retries): no handler may run twice for one invocation
  --seed <n>                 repeat an earlier run's load
  --keep                     keep the services, data and logs afterwards`;

export async function chaosCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '20000' },
      workers: { type: 'string', default: '3' },
      'duration-seconds': { type: 'string' },
      'pg-outage-seconds': { type: 'string', default: '30' },
      'kill-every-seconds': { type: 'string', default: '4' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-redis-restart': { type: 'boolean', default: false },
      'rolling-restart': { type: 'boolean', default: false },
      'freeze-seconds': { type: 'string', default: '60' },
      'lock-seconds': { type: 'string', default: '20' },
      'no-metrics-flood': { type: 'boolean', default: false },
      'no-hostile': { type: 'boolean', default: false },
      functions: { type: 'boolean', default: false },
      'destination-down-seconds': { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(CHAOS_USAGE);
    return 0;
  }
  const num = (name: string, v: string | undefined, min = Number.MIN_VALUE) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min)
      throw new Error(
        `--${name} must be a number of at least ${min === Number.MIN_VALUE ? 'just above 0' : min}, got "${v}"`,
      );
    return n;
  };
  const events = Math.round(num('events', values.events));
  const seed = values.seed ? Math.round(num('seed', values.seed)) : Math.floor(Math.random() * 2 ** 31);
  const root = join(__dirname, '..', '..', '..', '..');
  const result = await runChaos({
    root,
    events,
    workers: Math.round(num('workers', values.workers)),
    durationSeconds: values['duration-seconds']
      ? num('duration-seconds', values['duration-seconds'])
      : Math.max(20, events / 200),
    pgOutageSeconds: num('pg-outage-seconds', values['pg-outage-seconds'], 0),
    killEverySeconds: num('kill-every-seconds', values['kill-every-seconds'], 0),
    restartRedis: !values['no-redis-restart'],
    rollingRestart: values['rolling-restart'],
    freezeSeconds: num('freeze-seconds', values['freeze-seconds'], 0),
    lockSeconds: num('lock-seconds', values['lock-seconds'], 0),
    metricsFlood: !values['no-metrics-flood'],
    destinationDownSeconds: num('destination-down-seconds', values['destination-down-seconds'], 0),
    hostile: values['no-hostile'] ? undefined : {},
    functions: values.functions,
    seed,
    keep: values.keep,
    log: (line) => console.log(line),
  });
  console.log(`\nchaos run, seed ${seed}\n${formatChaos(result)}`);
  writeFileSync(join(root, 'chaos-results.json'), `${JSON.stringify(chaosResults(result, seed), null, 2)}\n`);
  console.log(`results in ${join(root, 'chaos-results.json')}`);
  return result.passed ? 0 : 1;
}
