import { join } from 'node:path';
import { createDb, migrateToLatest } from '@callsync/db';
import { SecretKeyring } from '@callsync/domain';
import { migrations } from '@callsync/migrations';
import { LocalServices } from '../local-services';
import type { ManagedProcess } from '../managed-process';
import { auditPhase, type AuditPhaseReport } from './audit-phase';
import type { ChaosOptions, ChaosResult } from './chaos-types';
import { runPassed, signedNon2xx } from './checks';
import { FairDestinations, fairnessPassed } from './fair-destinations';
import { sleep, type ChaosRun } from './faults';
import { FlakyDestination, type ForwardReport } from './flaky-destination';
import { functionsPassed } from './functions-phase';
import type { HostileReport } from './hostile';
import { API_KEY, drain, loadWithFaults, startCallsync } from './phases';
import { verifyChaos, type ChaosReport } from './verify';

/*
 * `make chaos`: this file runs it (phases.ts starts callsync and the load with its faults, checks.ts
 * decides, report.ts prints); the faults themselves are in faults.ts, hostile.ts and the destinations.
 */

export type { ChaosOptions, ChaosResult } from './chaos-types';
export { INGRESS_RSS_BUDGET_BYTES, hostilePassed } from './checks';
export { chaosResults, formatChaos } from './report';

/**
 * Run callsync (ingress + workers) on its own Postgres and Redis, send a Retell-like load, and break
 * things meanwhile: SIGKILL workers, freeze one, restart Redis (it keeps nothing), crash Postgres,
 * lock webhook_events, flood /metrics. Then wait for the backlog to drain and check that nothing
 * acknowledged was lost or applied twice.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const t0 = Date.now();
  const say = (line: string) => options.log?.(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const services = await LocalServices.create(options.root, 'chaos');
  // Logs outlive the throwaway services, so a failed run can be read afterwards.
  const logDir = join(options.root, '.local', 'chaos-logs', String(options.seed));
  const processes: ManagedProcess[] = [];
  try {
    say(`starting Postgres :${services.pgPort} and Redis :${services.redisPort} in ${services.dataDir}`);
    await services.start();
    const db = createDb({
      url: services.databaseUrl,
      poolSize: 4,
      connectTimeoutMs: 5000,
      applicationName: 'callsync-chaos',
    });
    try {
      await migrateToLatest(db, migrations);
      const flaky =
        options.forwarding === false
          ? undefined
          : await FlakyDestination.start(
              db,
              new SecretKeyring({ current: services.secretKey, previous: [] }),
              options.seed,
              options.destinationFailureRate ?? 1 / 3,
            );
      const fair =
        flaky && (await FairDestinations.start(db, new SecretKeyring({ current: services.secretKey, previous: [] })));
      try {
        const run = await startCallsync(options, say, services, db, logDir, processes, flaky);
        const { plan, outcomes, hostile, functions } = await loadWithFaults(run, logDir);
        await drain(run);
        const report = await verifyChaos(db, plan, outcomes, run.outages);
        const forward = await flaky?.verify(db);
        const fairness =
          fair &&
          flaky &&
          (await fair.verifyAndRemove(db, await flaky.breakerSeen(db), [...run.outages, ...run.jobLosses]));
        const hostileReport = hostile && {
          ...hostile,
          signedNon2xxOutsideOutages: signedNon2xx(outcomes, hostile, run.outages),
        };
        const audit = options.audit === false ? undefined : await auditPhase(run, plan, API_KEY);
        const finished = await finish(run, report, forward, processes, logDir, hostileReport, audit);
        const result = functions
          ? { ...finished, functions, passed: finished.passed && functionsPassed(functions) }
          : finished;
        return fairness ? { ...result, fairness, passed: result.passed && fairnessPassed(fairness) } : result;
      } finally {
        await fair?.stop();
        await flaky?.stop();
      }
    } finally {
      await db.destroy();
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)));
    for (const p of processes) p.close();
    if (options.keep) say(`kept: ${services.databaseUrl}, ${services.redisUrl}`);
    else await services.destroy();
  }
}

/** Stop every process gracefully and put the verdict together. */
async function finish(
  run: ChaosRun,
  report: ChaosReport,
  forward: ForwardReport | undefined,
  processes: ManagedProcess[],
  logDir: string,
  hostile: HostileReport | undefined,
  audit?: AuditPhaseReport,
): Promise<ChaosResult> {
  // A worker restarted a moment ago may still be booting (Node has not run our code yet, so SIGTERM
  // would simply kill it); give it time to start before testing the graceful stop.
  await sleep(2000);
  run.say('stopping every process with SIGTERM (graceful shutdown)');
  const shutdownCodes = await Promise.all(processes.map((p) => p.stop()));
  const unexpectedExits = processes.flatMap((p) => p.unexpectedExits);
  const { kills, rollingExitCodes, freezes, ingressPeakRssDuringLock, metricsScrapes, metricsScrapeErrors } = run;
  const passed = runPassed(
    report,
    { forward, hostile, audit },
    { shutdownCodes, rollingExitCodes, unexpectedExits, ingressPeakRssDuringLock, metricsScrapeErrors },
  );
  return {
    report,
    passed,
    kills,
    rollingExitCodes,
    shutdownCodes,
    unexpectedExits,
    logDir,
    freezes,
    ingressPeakRssDuringLock,
    metricsScrapes,
    metricsScrapeErrors,
    forward,
    hostile,
    audit,
  };
}
