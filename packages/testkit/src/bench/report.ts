import type { BenchResult } from './bench';
import { totalOf, type CpuPerEvent } from './run';
import { SUSTAIN_P99_MS } from './sustained';

/** Each goal of `make bench`: what was measured, the goal, and whether it was met. */
export function benchGoals(r: BenchResult): { name: string; value: string; goal: string; met: boolean }[] {
  const x = (v: number) => `${v}x`;
  const live = (['inbound', 'functions'] as const).flatMap((k) => {
    const l = r.live[k];
    const idle = r.live.idle[k];
    const bad = l.non2xx + l.errors + l.timeouts;
    const label = k === 'inbound' ? 'inbound answer' : 'function call';
    return [
      {
        name: `${label} p99, live process (${r.live.rate}/s open-loop + webhooks ${r.live.webhookRate}/s)`,
        value: `${l.p99} ms${bad ? ` (${bad} not 2xx)` : ''}`,
        goal: '<= 30 ms, all 2xx',
        met: l.p99 <= 30 && bad === 0,
      },
      {
        name: `${label} p99 beside webhooks / idle p99 (${idle.p99} ms)`,
        value: `${Math.round((l.p99 / Math.max(1, idle.p99)) * 100) / 100}x`,
        goal: '<= 2.0x',
        met: l.p99 <= 2 * Math.max(1, idle.p99),
      },
    ];
  });
  const b = r.live.budget;
  const budget = [
    {
      name: `turn budget: answer p99 (${b.rate}/s, p50 100 ms / p99 5 s handler, budget ${b.budgetMs} ms)`,
      value: `${b.p99} ms${b.non2xx + b.errors + b.timeouts ? ` (${b.non2xx + b.errors + b.timeouts} not 2xx)` : ''}`,
      goal: `<= ${b.budgetMs + 50} ms`,
      met: b.p99 <= b.budgetMs + 50,
    },
    {
      name: 'turn budget: handlers run twice for one invocation',
      value: String(b.doubleRuns),
      goal: '0',
      met: b.doubleRuns === 0,
    },
  ];
  return [
    {
      name: 'ingress / naive throughput',
      value: x(r.ratios.ingressVsNaive),
      goal: '>= 2.0x',
      met: r.ratios.ingressVsNaive >= 2,
    },
    {
      name: 'ingress CPU / bare Express CPU per request',
      value: x(r.ratios.ingressCpuVsBaseline),
      goal: '<= 1.5x',
      met: r.ratios.ingressCpuVsBaseline <= 1.5,
    },
    {
      name: 'end-to-end CPU / bare Express CPU per request',
      value: x(r.ratios.endToEndCpuVsBaseline),
      goal: '<= 3.0x',
      met: r.ratios.endToEndCpuVsBaseline <= 3,
    },
    {
      name: `1 worker (concurrency ${r.workerConcurrency}) drain / ingress`,
      value: x(r.ratios.drain1VsIngress),
      goal: '>= 1.0x',
      met: r.ratios.drain1VsIngress >= 1,
    },
    {
      name: `reconcile ${r.reconcile.sessions} at ${r.reconcile.ratePerSecond}/s / ideal`,
      value: `${x(r.ratios.reconcileVsIdeal)} (${r.reconcile.seconds} s, ${r.reconcile.failed} failed)`,
      goal: '<= 1.1x',
      met: r.ratios.reconcileVsIdeal <= 1.1 && r.reconcile.failed === 0 && r.reconcile.ended === r.reconcile.sessions,
    },
    {
      name: `received -> processed p99 at ${r.latency.rate}/s`,
      value: `${r.latency.p99Ms} ms`,
      goal: `<= ${SUSTAIN_P99_MS} ms`,
      met: r.latency.p99Ms <= SUSTAIN_P99_MS,
    },
    ...live,
    ...budget,
    { name: 'peak RSS ingress', value: `${r.rssMb.ingress} MB`, goal: '<= 150 MB', met: r.rssMb.ingress <= 150 },
    { name: 'peak RSS worker', value: `${r.rssMb.worker} MB`, goal: '<= 200 MB', met: r.rssMb.worker <= 200 },
  ];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => `  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

/** The report `make bench` prints. */
export function formatBench(r: BenchResult): string {
  const server = (label: string, l: BenchResult['baseline'], cpu: number) => [
    label,
    `${Math.round(l.rps)} req/s`,
    `p99 ${l.p99} ms`,
    `${cpu} µs`,
    l.non2xx + l.errors + l.timeouts ? `${l.non2xx + l.errors + l.timeouts} not 2xx` : '',
  ];
  const servers = table([
    ['server', 'throughput', 'latency', 'server CPU/req', ''],
    server('bare Express 5 + JSON -> 204', r.baseline, r.cpu.baseline.server ?? 0),
    server('naive durable ingress', r.naive, r.cpu.naive.server ?? 0),
    server('callsync ingress', r.ingress, r.cpu.ingress.ingress ?? 0),
  ]);
  const pipeline = table([
    ...r.drain.map((d) => [
      `drain, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
      `${d.perSecond} events/s (${d.events} events)`,
    ]),
    [
      `end to end at ${r.latency.rate}/s, 2 workers`,
      `received -> processed p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms`,
    ],
    [
      `sustained, 2 workers (${r.sustained.seconds} s per rate)`,
      `${r.sustained.eventsPerSecond} events/s (tried ${r.sustained.steps.map((s) => `${s.offered}${s.held ? '' : '✗'}`).join(', ')})`,
    ],
    [
      'live process, one at a time',
      `inbound p99 ${r.live.idle.inbound.p99} ms, function p99 ${r.live.idle.functions.p99} ms`,
    ],
    [
      `live process, ${r.live.rate}/s open-loop + webhooks`,
      `inbound p50 ${r.live.inbound.p50} / p99 ${r.live.inbound.p99} ms (${r.live.inbound.non2xx} not 2xx), function p50 ${r.live.functions.p50} / p99 ${r.live.functions.p99} ms (${r.live.functions.non2xx} not 2xx)`,
    ],
    [
      'the same functions through the ingress',
      `p50 ${r.live.sameProcess.functions.p50} / p99 ${r.live.sameProcess.functions.p99} ms (${r.live.sameProcess.functions.non2xx} not 2xx)`,
    ],
    [
      `turn budget, ${r.live.budget.rate}/s`,
      `answer p50 ${r.live.budget.p50} / p99 ${r.live.budget.p99} ms, ${r.live.budget.retries} retries, ${r.live.budget.doubleRuns} double runs of ${r.live.budget.handlerRuns}`,
    ],
    [
      'reconcile',
      `${r.reconcile.sessions} sessions in ${r.reconcile.seconds} s (ideal ${r.reconcile.idealSeconds} s), ${r.reconcile.throttled} answers 429`,
    ],
  ]);
  const goals = table([
    ['goal', 'measured', 'wanted', ''],
    ...benchGoals(r).map((g) => [g.name, g.value, g.goal, g.met ? 'met' : 'NOT met']),
  ]);
  // Everything shares the same cores, so the machine can sustain at most cores / (CPU per event).
  const cpuRows: [string, CpuPerEvent][] = [
    ['bare Express', r.cpu.baseline],
    ['naive ingress', r.cpu.naive],
    ['callsync ingress', r.cpu.ingress],
    ...r.cpu.drain.map((c, i): [string, CpuPerEvent] => [
      `drain, ${r.drain[i]!.workers} worker${r.drain[i]!.workers > 1 ? 's' : ''}`,
      c,
    ]),
    ['end to end', r.cpu.endToEnd],
  ];
  const cpu = table(
    cpuRows.map(([label, c]) => {
      const total = totalOf(c);
      const parts = Object.entries(c)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return [
        label,
        `${total} µs`,
        `= ${parts}`,
        `(at most ~${Math.round((r.machine.cpus * 1e6) / Math.max(1, total))}/s)`,
      ];
    }),
  );
  return [
    `${r.machine.cpus} cores, Node ${r.machine.node}, ${r.connections} connections, ${r.seconds} s per phase, ${r.rounds} round(s), ~${r.ingress.bodyBytes} B bodies`,
    ...servers,
    '',
    ...pipeline,
    '',
    'CPU per delivery (or event), every process on this machine:',
    ...cpu,
    '',
    ...goals,
  ].join('\n');
}

/** The live routes' figures alone (`make bench ARGS="--only live"`). */
export function formatLive(l: BenchResult['live']): string {
  const row = (label: string, r: { p50: number; p99: number; non2xx: number; errors: number; timeouts: number }) => [
    label,
    `p50 ${r.p50} ms`,
    `p99 ${r.p99} ms`,
    `${r.non2xx + r.errors + r.timeouts} not 2xx`,
  ];
  return table([
    ['', 'p50', 'p99', ''],
    row('inbound, one at a time', l.idle.inbound),
    row('function, one at a time', l.idle.functions),
    row(`inbound, ${l.rate}/s + webhooks ${l.webhookRate}/s`, l.inbound),
    row(`function, ${l.rate}/s + webhooks ${l.webhookRate}/s`, l.functions),
    row('function, prefetched calls', l.prefetched.functions),
    row('function through the ingress', l.sameProcess.functions),
    [...row(`turn budget ${l.budget.budgetMs} ms, ${l.budget.rate}/s`, l.budget), `${l.budget.doubleRuns} double runs`],
  ]).join('\n');
}
