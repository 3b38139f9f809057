import { countPendingEvents } from '@callsync/db/ops';
import { processingLatency } from '@callsync/db/testing';
import { API_KEY, drained, load, webhookUrl, type BenchRun } from './run';

/** What one offered rate did in the sustained-rate search. */
export interface SustainStep {
  offered: number;
  /** Deliveries acknowledged per second. */
  acked: number;
  /** Pending rows when the load stopped. */
  pendingAtEnd: number;
  p99Ms: number;
  held: boolean;
}

export interface SustainedResult {
  /** The highest offered rate that held (0 if none did). */
  eventsPerSecond: number;
  seconds: number;
  steps: SustainStep[];
}

/** Received-to-processed p99 a held rate must keep, ms. */
export const SUSTAIN_P99_MS = 250;

/**
 * One offered rate for `seconds`: it holds when the ingress acknowledged it (95 % or more, all 2xx),
 * the backlog stayed flat (less than a second of work pending when the load stops) and
 * received-to-processed p99 stayed within SUSTAIN_P99_MS.
 */
async function tryRate(run: BenchRun, offered: number, seconds: number, step: number): Promise<SustainStep> {
  run.say(`(g) sustained: ${offered} deliveries/s for ${seconds}s with 2 workers`);
  const since = new Date();
  const sent = await load(run.options.root, {
    ...run.common,
    durationSeconds: seconds,
    url: webhookUrl(run),
    apiKey: API_KEY,
    runId: `sustain${step}`,
    rate: offered,
  });
  const pendingAtEnd = await countPendingEvents(run.db);
  await drained(run.db);
  const { p99Ms } = await processingLatency(run.db, since);
  const acked = Math.round(sent.requests / seconds);
  const clean = sent.non2xx + sent.errors + sent.timeouts === 0;
  const held = clean && acked >= offered * 0.95 && pendingAtEnd <= offered && p99Ms <= SUSTAIN_P99_MS;
  run.say(
    `    acked ${acked}/s, ${pendingAtEnd} pending at the end, p99 ${p99Ms} ms: ${held ? 'held' : 'did not hold'}`,
  );
  return { offered, acked, pendingAtEnd, p99Ms, held };
}

/**
 * (g) The highest offered rate the pipeline sustains with 2 workers: start at 80 % of the lower of the
 * ingress's and the drain's rates, then climb by 15 % while rates hold (or step down by 20 % until one
 * does), at most `maxSteps` rates in all; then once more halfway between the highest rate that held
 * and the lowest that did not.
 */
export async function measureSustained(run: BenchRun, start: number, maxSteps = 5): Promise<SustainedResult> {
  const seconds = run.options.sustainSeconds ?? 30;
  const steps: SustainStep[] = [];
  let rate = Math.max(50, Math.round(start * 0.8));
  let best = 0;
  let climbing: boolean | undefined;
  for (let i = 0; i < maxSteps; i++) {
    const s = await tryRate(run, rate, seconds, i);
    steps.push(s);
    if (s.held) best = Math.max(best, rate);
    climbing ??= s.held;
    // Climbing: stop at the first rate that fails. Descending: stop at the first that holds.
    if (climbing !== s.held) break;
    rate = Math.round(climbing ? rate * 1.15 : rate * 0.8);
  }
  const failed = steps.filter((s) => !s.held).map((s) => s.offered);
  if (best > 0 && failed.length) {
    const middle = Math.round((best + Math.min(...failed.filter((f) => f > best))) / 2);
    if (Number.isFinite(middle) && middle > best) {
      const s = await tryRate(run, middle, seconds, steps.length);
      steps.push(s);
      if (s.held) best = middle;
    }
  }
  return { eventsPerSecond: best, seconds, steps };
}
