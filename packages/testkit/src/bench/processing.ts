import { countPendingEvents } from '@callsync/db/ops';
import { processingLatency } from '@callsync/db/testing';
import { workerProcess, type ManagedProcess } from '../managed-process';
import { CpuMeter } from './cpu';
import {
  API_KEY,
  drained,
  drainRate,
  load,
  peakRssMb,
  perEvent,
  webhookUrl,
  type BenchRun,
  type CpuPerEvent,
} from './run';

export interface DrainResult {
  workers: number;
  events: number;
  perSecond: number;
}

/** (c) Drain the backlog the servers built with 1 worker, then a second backlog with 2. */
export async function measureDrain(run: BenchRun) {
  const results: DrainResult[] = [];
  const cpu: CpuPerEvent[] = [];
  const workers: ManagedProcess[] = [];
  let workerPeakMb = 0;
  for (const count of [1, 2]) {
    if (count === 2) {
      run.say('building a second backlog');
      await load(run.options.root, { ...run.common, url: webhookUrl(run), apiKey: API_KEY, runId: 'backlog2' });
    }
    run.say(`(c) drain: ${await countPendingEvents(run.db)} pending events, ${count} worker(s)`);
    const since = new Date();
    const meter = new CpuMeter({
      [count > 1 ? 'workers' : 'worker']: () => workers.map((w) => w.pid ?? 0).filter(Boolean),
      Postgres: () => run.pids().postgres,
      Redis: () => run.pids().redis,
    });
    while (workers.length < count) {
      const w = workerProcess(`worker-${workers.length + 1}`, run.options.root, run.env, run.logDir);
      run.processes.push(w);
      workers.push(w);
      w.start();
    }
    await drained(run.db);
    const rate = await drainRate(run.db, since);
    results.push({ workers: count, ...rate });
    cpu.push(perEvent(meter.stop(), rate.events));
    workerPeakMb = Math.max(workerPeakMb, ...workers.map((w) => peakRssMb(w.pid)));
    if (count === 1) {
      await workers[0]!.stop();
      workers.length = 0;
    }
  }
  return { results, cpu, workers, workerPeakMb };
}

/**
 * (d) At half the ingress's maximum rate with 2 workers: received-to-processed latency, and the CPU
 * every process of the pipeline (ingress, workers, Postgres, Redis) spent per event, from the first
 * request until the last event is applied.
 */
export async function measureEndToEnd(
  run: BenchRun,
  ingressRps: number,
  ingressPid: number,
  workers: ManagedProcess[],
) {
  const rate = Math.max(1, Math.round(ingressRps / 2));
  run.say(`(d) end to end: ${rate} deliveries/s for ${run.options.seconds}s with 2 workers`);
  const since = new Date();
  const meter = new CpuMeter({
    ingress: () => [ingressPid],
    workers: () => workers.map((w) => w.pid ?? 0).filter(Boolean),
    Postgres: () => run.pids().postgres,
    Redis: () => run.pids().redis,
  });
  const sent = await load(run.options.root, {
    ...run.common,
    url: webhookUrl(run),
    apiKey: API_KEY,
    runId: 'latency',
    rate,
  });
  await drained(run.db);
  const cpu = perEvent(meter.stop(), sent.requests);
  const result = { rate, ...(await processingLatency(run.db, since)) };
  return { result, cpu, workerPeakMb: Math.max(0, ...workers.map((w) => peakRssMb(w.pid))) };
}
