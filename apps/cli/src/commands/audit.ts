import { parseArgs } from 'node:util';
import type { Config } from '@callsync/config';
import { createDb } from '@callsync/db';
import { UNMAPPED_COMPANY } from '@callsync/db/reconcile';
import { findCompany } from '@callsync/db/tenants';
import { defaultAuditGraceMinutes, runAudit, type AuditReport } from '@callsync/domain';
import { parseDuration } from '../duration';
import { ProgressBar } from '../progress';
import { retellClient } from '../retell-client';
import { table } from '../table';

export const AUDIT_USAGE = `usage: make audit [ARGS="--since 24h [--company NAME] [--json]"]

Prove that nothing Retell knows is missing: list the calls and chats that started in the window at
Retell (list-calls, list-chats) and check that each has a session here, that the session is final
(ended, error, not_connected), analyzed where Retell analyzed it, and forwarded to every matching
destination. Prints listed, complete, in flight (Retell is not done with it) and every gap by id with
its reason. The result is kept (audit_runs) for the callsync_audit_* gauges.
Exits 1 when a gap is older than the grace period, 2 on bad arguments.

  --since <age>     how far back, e.g. 24h, 90m, 7d (default 24h)
  --company <name>  only this company's calls (its name or id; "unmapped": calls no company owns)
  --grace <age>     a gap younger than this is reported but does not fail the audit
                    (default RECONCILE_EVERY_MINUTES + RECONCILE_ANALYSIS_AFTER_MINUTES)
  --json            machine-readable output`;

const REASON: Record<string, string> = {
  no_session: 'no session (no webhook arrived, not discovered yet)',
  not_final: 'session not final',
  not_analyzed: 'analyzed at Retell, not here',
  not_forwarded: 'not forwarded to every matching destination',
};

/** `make audit`: completeness of the window against Retell's listing. */
export async function auditCommand(config: Config, argv: string[]): Promise<number> {
  let values;
  let sinceMinutes: number;
  let graceMinutes: number;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: 'string', default: '24h' },
        company: { type: 'string' },
        grace: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
    if (values.help) {
      console.log(AUDIT_USAGE);
      return 0;
    }
    sinceMinutes = parseDuration(values.since, '--since');
    graceMinutes = values.grace ? parseDuration(values.grace, '--grace') : defaultAuditGraceMinutes(config.reconcile);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${AUDIT_USAGE}`);
    return 2;
  }

  const db = createDb({ url: config.database.url, poolSize: 4, applicationName: 'callsync-audit' });
  try {
    let companyId: string | undefined;
    if (values.company !== undefined) {
      if (values.company === UNMAPPED_COMPANY) companyId = UNMAPPED_COMPANY;
      else {
        const company = await findCompany(db, values.company);
        if (!company) {
          console.error(`--company: no company "${values.company}"; make tenants ARGS="list" shows them`);
          return 2;
        }
        companyId = company.id;
      }
    }
    const untilMs = Date.now();
    const sinceMs = untilMs - sinceMinutes * 60_000;
    const bar = values.json ? undefined : new ProgressBar();
    if (!values.json)
      console.log(
        `audit: calls and chats started since ${new Date(sinceMs).toISOString()} at ${config.retell.apiBaseUrl}` +
          `${values.company ? `, company ${values.company}` : ''}; grace ${+graceMinutes.toFixed(2)} min`,
      );
    let report: AuditReport;
    try {
      report = await runAudit(
        { db, retell: retellClient(config) },
        {
          sinceMs,
          untilMs,
          graceMs: graceMinutes * 60_000,
          companyId,
          record: 'manual',
          onProgress: (done, total) => bar?.update(done, total),
        },
      );
    } catch (err) {
      bar?.done();
      console.error(`audit failed: ${(err as Error).message}`);
      return 1;
    }
    bar?.done();
    if (values.json) console.log(JSON.stringify(auditJson(report), null, 2));
    else console.log(formatAudit(report));
    return report.overdue > 0 ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

/** The audit's one-line summary (the chaos run's table shows it too). */
export function auditLine(r: AuditReport): string {
  return `listed ${r.listed}, complete ${r.complete}, in flight ${r.inFlight}, gaps ${r.gaps.length} (${r.overdue} older than the grace period)`;
}

function formatAudit(r: AuditReport): string {
  const companies = table(
    r.companies
      .filter((c) => c.listed > 0 || c.gaps > 0)
      .map((c) => ({
        company: c.companyName ? `${c.companyName} (${c.company})` : c.company,
        listed: c.listed,
        complete: c.complete,
        'in flight': c.inFlight,
        gaps: c.gaps,
        overdue: c.overdue,
        'complete %': `${(c.completeRatio * 100).toFixed(1)}`,
      })),
    ['company', 'listed', 'complete', 'in flight', 'gaps', 'overdue', 'complete %'],
  );
  const gaps = table(
    r.gaps.map((g) => ({
      id: `${g.subject === 'chat' ? 'chat ' : ''}${g.id}`,
      company: g.company,
      reason: REASON[g.reason] ?? g.reason,
      since: g.sinceMs === null ? '?' : new Date(g.sinceMs).toISOString(),
      overdue: g.overdue ? 'yes' : 'no',
      detail: g.detail ?? '',
    })),
    ['id', 'company', 'reason', 'since', 'overdue', 'detail'],
  );
  const verdict =
    r.gaps.length === 0
      ? 'COMPLETE: every call and chat Retell listed is here, final, analyzed and forwarded'
      : r.overdue > 0
        ? `GAPS: ${r.overdue} older than the grace period (make reconcile repairs most; see the reasons)`
        : 'GAPS, all younger than the grace period (reconciliation and forwarding may still close them)';
  return [`\n${auditLine(r)}`, '', companies, '', 'gaps:', gaps, '', verdict].join('\n');
}

/** `--json`: the report with ISO times. */
export function auditJson(r: AuditReport) {
  return {
    runId: r.runId,
    since: new Date(r.sinceMs).toISOString(),
    until: new Date(r.untilMs).toISOString(),
    graceSeconds: r.graceMs / 1000,
    listed: r.listed,
    complete: r.complete,
    inFlight: r.inFlight,
    gaps: r.gaps.length,
    overdue: r.overdue,
    companies: r.companies,
    gapList: r.gaps.map((g) => ({ ...g, since: g.sinceMs === null ? null : new Date(g.sinceMs).toISOString() })),
  };
}
