import { freePort } from '../ports';
import { openLoop, startBudgetServer } from '../bench/live-phase';
import type { ChaosRun } from './faults';
import type { OutageWindow } from './verify';

/*
 * Functions under the chaos run's faults (issue 33): the turn-budget server (the real live app and
 * FunctionInvoker, one heavy-tailed function: p50 100 ms, p99 5 s) on the run's Postgres, called
 * open-loop beside the webhook load while workers are killed and Postgres crashes, Retell retrying an
 * attempt not answered within 1 s (and 5% of invocations sent twice). No handler may run twice for one
 * invocation, every invocation outside Postgres outages must be answered in the end (a function claims
 * its run in Postgres first: while Postgres is down it answers 500 and Retell retries), and answers
 * within the budget outside the outages are reported.
 */

export const CHAOS_FUNCTION_RATE = 20;
export const CHAOS_BUDGET_MS = 500;

export interface FunctionsPhaseReport {
  rate: number;
  budgetMs: number;
  invocations: number;
  /** Invocations never answered 2xx, retries included; outside outages 0 is wanted (a function claims its run in Postgres, so none runs while Postgres is down). */
  unanswered: number;
  unansweredOutsideOutages: number;
  /** Handlers that ran more than once for one invocation (0 wanted). */
  doubleRuns: number;
  retries: number;
  non2xx: number;
  p99Ms: number;
  /** p99 of the invocations scheduled outside Postgres outages (and the 10 s after each). */
  p99OutsideOutagesMs: number;
}

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! : 0;
};

/** Start with the load; resolves after it, once background handlers have finished. */
export async function functionsPhase(run: ChaosRun, logDir: string): Promise<FunctionsPhaseReport> {
  const root = run.options.root;
  const server = await startBudgetServer(
    root,
    run.services.processEnv('key_chaos_run_only', await freePort(), { LOG_LEVEL: 'warn' }),
    logDir,
    await freePort(),
    CHAOS_BUDGET_MS,
  );
  try {
    run.say(`functions: ${CHAOS_FUNCTION_RATE}/s open-loop beside the load, budget ${CHAOS_BUDGET_MS} ms`);
    const result = await openLoop(root, {
      url: `${server.url}/api/retell/functions/bench_lookup`,
      apiKey: 'key_chaos_run_only',
      kind: 'budget',
      rate: CHAOS_FUNCTION_RATE,
      durationSeconds: run.options.durationSeconds,
      runId: `chaos${run.options.seed}`,
      // Retell's attempts: three over a Postgres outage of several seconds, 5 s apart at the end.
      retry: { afterMs: 1000, max: 8, duplicateShare: 0.05 },
      timeoutMs: 5000,
      keepSamples: true,
    });
    // Handlers past their budget finish in the background, within their 8 s timeout.
    await new Promise((r) => setTimeout(r, 9000));
    const runs = await server.doubleRuns();
    // An invocation whose attempts (up to ~15 s) overlap an outage or the 10 s after it is not judged.
    const during = (from: number, to: number) =>
      run.outages.some((w: OutageWindow) => to >= w.from && from <= w.to + 10_000);
    const outside = (result.samples ?? []).filter((s) => !during(s.at, s.at + s.ms)).map((s) => s.ms);
    const unansweredOutside = (result.unansweredAt ?? []).filter((at) => !during(at, at + 15_000)).length;
    return {
      rate: CHAOS_FUNCTION_RATE,
      budgetMs: CHAOS_BUDGET_MS,
      invocations: result.invocations,
      unanswered: result.unanswered,
      unansweredOutsideOutages: unansweredOutside,
      doubleRuns: runs.doubleRuns,
      retries: result.retries,
      non2xx: result.non2xx + result.errors + result.timeouts,
      p99Ms: result.p99,
      p99OutsideOutagesMs: p99(outside),
    };
  } finally {
    await server.stop();
  }
}

/** No double run, nothing left unanswered outside outages. (Answers within the budget are reported, not required.) */
export function functionsPassed(f: FunctionsPhaseReport): boolean {
  return f.doubleRuns === 0 && f.unansweredOutsideOutages === 0;
}

export function functionsRows(f: FunctionsPhaseReport | undefined): [string, string | number][] {
  if (!f) return [['functions', 'off']];
  return [
    [
      `functions (${f.rate}/s, budget ${f.budgetMs} ms): invocations / unanswered`,
      `${f.invocations} / ${f.unanswered}`,
    ],
    ['  handlers run twice for one invocation', f.doubleRuns],
    ['  answer p99 outside outages (all)', `${f.p99OutsideOutagesMs} ms (${f.p99Ms} ms)`],
    ['  attempts not 2xx / Retell-style retries', `${f.non2xx} / ${f.retries}`],
  ];
}
