import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { childEnvironment } from '@callsync/config';
import { FakeRetell } from '@callsync/fake-retell';
import type { ChaosRun } from './faults';
import type { LoadPlan } from './load';

/*
 * The run's last phase (issue 32): Retell (the fake, loaded with every planned call as its last event
 * left it) lists the calls, including the ones whose webhooks were never sent; reconciliation runs
 * (`make reconcile`, then `make backfill` for calls older than its first discovery window), and
 * `make audit` must then find every call complete, or still in flight at Retell.
 */

export interface AuditPhaseReport {
  /** Calls whose webhooks were never sent. */
  withheld: number;
  /** Calls and chats the fake lists (those with a start time: dial failures never started). */
  expectedListed: number;
  /** What reconciliation discovered (no session before), from make reconcile and make backfill. */
  discovered: number;
  reconcileExit: number | null;
  backfillExit: number | null;
  auditExit: number | null;
  /** make audit --json, or null when it printed none. */
  audit: {
    listed: number;
    complete: number;
    inFlight: number;
    gaps: number;
    overdue: number;
    gapList: { subject: 'call' | 'chat'; id: string; reason: string; detail?: string }[];
  } | null;
  /** Withheld calls the audit does not find complete. */
  withheldIncomplete: string[];
  /** What a command printed when it failed. */
  errors: string[];
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(root: string, env: Record<string, string>, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'apps/cli/dist/main.js'), ...args],
      { env: childEnvironment(env), maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Reconciliation against the fake Retell, then the audit; the workers are still running (forwarding). */
export async function auditPhase(
  run: ChaosRun & { port: number },
  plan: LoadPlan,
  apiKey: string,
): Promise<AuditPhaseReport> {
  const { say } = run;
  const fake = new FakeRetell({ apiKeys: [apiKey] });
  for (const call of plan.retell.calls) fake.setCall(call as Parameters<FakeRetell['setCall']>[0]);
  for (const chat of plan.retell.chats) fake.setChat(chat as Parameters<FakeRetell['setChat']>[0]);
  const baseUrl = await fake.start();
  const report: AuditPhaseReport = {
    withheld: plan.withheld.length,
    expectedListed: [...plan.retell.calls, ...plan.retell.chats].filter((c) => typeof c.start_timestamp === 'number')
      .length,
    discovered: 0,
    reconcileExit: null,
    backfillExit: null,
    auditExit: null,
    audit: null,
    withheldIncomplete: [],
    errors: [],
  };
  try {
    const env = run.services.processEnv(apiKey, run.port, {
      RETELL_API_BASE_URL: baseUrl,
      STALE_AFTER_MINUTES: '5',
      RECONCILE_ANALYSIS_AFTER_MINUTES: '30',
      RECONCILE_EVERY_MINUTES: '5',
      LOG_LEVEL: 'warn',
    });
    const root = run.options.root;
    say(
      `reconciliation against a fake Retell listing ${report.expectedListed} calls and chats (${report.withheld} never sent)`,
    );
    const reconcile = await cli(root, env, ['reconcile']);
    report.reconcileExit = reconcile.code;
    report.discovered += Number(/discovered (\d+)/.exec(reconcile.stdout)?.[1] ?? 0);
    // Calls Retell could never deliver (every delivery refused in an outage) and older than the first
    // discovery window: imported as make backfill does.
    const backfill = await cli(root, env, ['backfill', '--since', '3h']);
    report.backfillExit = backfill.code;
    report.discovered += Number(/imported (\d+)/.exec(backfill.stdout)?.[1] ?? 0);
    for (const [name, r] of [
      ['reconcile', reconcile],
      ['backfill', backfill],
    ] as const)
      if (r.code !== 0) report.errors.push(`make ${name} exited ${r.code}: ${(r.stderr || r.stdout).slice(-500)}`);
    // What reconciliation applied is forwarded by the workers (the sweeper queues it).
    if (run.flaky && !(await run.flaky.drain(run.db, 120_000))) say('audit: forwards still pending after 120 s');
    const audit = await cli(root, env, ['audit', '--since', '3h', '--json']);
    report.auditExit = audit.code;
    try {
      report.audit = JSON.parse(audit.stdout) as AuditPhaseReport['audit'];
    } catch {
      // No JSON: the command failed before its report; its output says why.
      report.errors.push(`make audit exited ${audit.code}: ${(audit.stderr || audit.stdout).slice(-500)}`);
    }
    const incomplete = new Set(report.audit?.gapList.map((g) => g.id) ?? plan.withheld);
    report.withheldIncomplete = plan.withheld.filter((id) => incomplete.has(id));
    if (report.audit)
      say(
        `audit: listed ${report.audit.listed}, complete ${report.audit.complete}, in flight ${report.audit.inFlight}, gaps ${report.audit.gaps}`,
      );
    return report;
  } finally {
    await fake.stop();
  }
}

/** Calls (not chats) the audit found incomplete. */
export const callGaps = (r: AuditPhaseReport) => (r.audit?.gapList ?? []).filter((g) => g.subject === 'call');
/** Chats the audit found incomplete. */
export const chatGaps = (r: AuditPhaseReport) => (r.audit?.gapList ?? []).filter((g) => g.subject === 'chat');

/**
 * Every call Retell listed is complete here, or still in flight at Retell; the withheld ones included.
 * Chats are reported, not judged: reconciliation asks about a chat only while it is ongoing, so a
 * chat_analyzed that was never acknowledged is not fetched again (see the run's table).
 */
export function auditPassed(r: AuditPhaseReport): boolean {
  return (
    r.audit !== null &&
    r.audit.listed === r.expectedListed &&
    callGaps(r).length === 0 &&
    r.withheldIncomplete.length === 0 &&
    r.reconcileExit === 0 &&
    r.backfillExit === 0
  );
}

/** The line the run's table shows. */
export function auditLine(r: AuditPhaseReport): string {
  if (!r.audit) return 'no report';
  const a = r.audit;
  return `listed ${a.listed}, complete ${a.complete}, in flight ${a.inFlight}, gaps ${a.gaps} (calls ${callGaps(r).length}, chats ${chatGaps(r).length})`;
}
