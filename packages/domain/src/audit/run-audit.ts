import { randomUUID } from 'node:crypto';
import { type Db } from '@callsync/db';
import {
  AUDIT_GAPS_KEPT,
  UNMAPPED_COMPANY,
  findAgentCompanies,
  findAuditedSessions,
  findUnforwardedEvents,
  listCompanyNames,
  recordAuditRun,
  type AuditGapRecord,
  type CompanyAuditCounts,
} from '@callsync/db/reconcile';
import type { ProviderApi, ProviderCall, ProviderChat } from '../events/provider';
import { classify, gapSinceMs, isOverdue, type ListedItem } from './classify';

/*
 * The completeness audit (issue 32): every call and chat Retell's list endpoints return for a window
 * is checked against what callsync holds. Reconciliation repairs what it finds; the audit proves (or
 * disproves) that nothing Retell knows is missing, per company, and keeps its result in audit_runs.
 */

export interface AuditGap extends AuditGapRecord {
  /** The company's id, or `unmapped`. */
  company: string;
  /** When Retell says it ended (else started), ms epoch. */
  sinceMs: number | null;
}

/** One company's audit: the counts audit_runs records, and its share complete. */
export interface CompanyAudit extends CompanyAuditCounts {
  /** complete / (listed - in flight); 1 when nothing is due. */
  completeRatio: number;
}

export interface AuditReport {
  /** audit_runs.run_id (null when not recorded). */
  runId: string | null;
  sinceMs: number;
  untilMs: number;
  graceMs: number;
  listed: number;
  complete: number;
  inFlight: number;
  /** Every gap, oldest first. */
  gaps: AuditGap[];
  /** Gaps older than the grace period. */
  overdue: number;
  companies: CompanyAudit[];
}

export interface AuditOptions {
  /** Calls and chats that started in [sinceMs, untilMs). */
  sinceMs: number;
  untilMs: number;
  /** A gap younger than this is reported but not overdue. */
  graceMs: number;
  /** Only this company's calls (its id). */
  companyId?: string;
  kinds?: readonly ('calls' | 'chats')[];
  /** Write the result to audit_runs (as `trigger`). Default: not written. */
  record?: 'scheduled' | 'manual';
  now?: () => number;
  /** After each listed page and each checked page: done of total so far. */
  onProgress?: (done: number, total: number) => void;
}

const PAGE = 1000;

const callItem = (c: ProviderCall): ListedItem => ({
  subject: 'call',
  id: c.call_id,
  status: c.call_status,
  analyzed: !!c.call_analysis,
  agentId: c.agent_id ?? null,
  startMs: c.start_timestamp ?? null,
  endMs: c.end_timestamp ?? null,
});

const chatItem = (c: ProviderChat): ListedItem => ({
  subject: 'chat',
  id: c.chat_id,
  status: c.chat_status,
  analyzed: !!c.chat_analysis,
  agentId: c.agent_id ?? null,
  startMs: c.start_timestamp ?? null,
  endMs: c.end_timestamp ?? null,
});

/** Audit the window: list at Retell, compare with what callsync holds, optionally record the result. */
export async function runAudit(deps: { db: Db; retell: ProviderApi }, options: AuditOptions): Promise<AuditReport> {
  const { db, retell } = deps;
  const kinds = options.kinds ?? ['calls', 'chats'];
  const names = await listCompanyNames(db);
  const companies = new Map<string, CompanyAudit>();
  const companyOf = (id: string): CompanyAudit => {
    let c = companies.get(id);
    if (!c) {
      c = {
        company: id,
        companyName: names.get(id) ?? null,
        listed: 0,
        complete: 0,
        inFlight: 0,
        gaps: 0,
        overdue: 0,
        gapReasons: {},
        overdueReasons: {},
        completeRatio: 1,
      };
      companies.set(id, c);
    }
    return c;
  };
  // A full audit has a row for every company, so one whose calls stopped still clears its gauge.
  if (!options.companyId) {
    for (const id of names.keys()) companyOf(id);
    companyOf(UNMAPPED_COMPANY);
  } else companyOf(options.companyId);

  const gaps: AuditGap[] = [];
  let listed = 0;
  let done = 0;
  const progress = () => options.onProgress?.(done, listed);

  const check = async (kind: 'calls' | 'chats', items: ListedItem[]) => {
    for (let i = 0; i < items.length; i += PAGE) {
      const page = items.slice(i, i + PAGE);
      const sessions = await findAuditedSessions(
        db,
        kind,
        page.map((p) => p.id),
      );
      const agents = await findAgentCompanies(
        db,
        page.flatMap((p) => (p.agentId && !sessions.get(p.id)?.companyId ? [p.agentId] : [])),
      );
      const unforwarded = new Map<string, string[]>();
      for (const u of await findUnforwardedEvents(
        db,
        page.filter((p) => sessions.has(p.id)).map((p) => p.id),
      )) {
        const list = unforwarded.get(u.subject) ?? [];
        list.push(`${u.eventType} to destination ${u.destinationId}: ${u.status ?? 'never queued'}`);
        unforwarded.set(u.subject, list);
      }
      const nowMs = options.now?.() ?? Date.now();
      for (const item of page) {
        done += 1;
        const session = sessions.get(item.id);
        const companyId =
          session?.companyId ?? (item.agentId ? agents.get(item.agentId) : undefined) ?? UNMAPPED_COMPANY;
        if (options.companyId && companyId !== options.companyId) continue;
        const c = companyOf(companyId);
        c.listed += 1;
        const verdict = classify(item, {
          status: session?.status ?? null,
          analyzed: session?.analyzed ?? false,
          unforwarded: unforwarded.get(item.id) ?? [],
        });
        if (verdict.kind === 'complete') c.complete += 1;
        else if (verdict.kind === 'in_flight') c.inFlight += 1;
        else {
          const overdue = isOverdue(item, nowMs, options.graceMs);
          c.gaps += 1;
          if (overdue) {
            c.overdue += 1;
            c.overdueReasons[verdict.reason] = (c.overdueReasons[verdict.reason] ?? 0) + 1;
          }
          c.gapReasons[verdict.reason] = (c.gapReasons[verdict.reason] ?? 0) + 1;
          gaps.push({
            subject: item.subject,
            id: item.id,
            reason: verdict.reason,
            ...(verdict.detail ? { detail: verdict.detail } : {}),
            overdue,
            company: companyId,
            sinceMs: gapSinceMs(item),
          });
        }
      }
      progress();
    }
  };

  if (kinds.includes('calls') && retell.listCalls) {
    const calls = await retell.listCalls(options.sinceMs, options.untilMs, (p) => {
      listed += p.length;
      progress();
    });
    await check('calls', calls.map(callItem));
  }
  if (kinds.includes('chats') && retell.listChats) {
    const chats = await retell.listChats(options.sinceMs, options.untilMs, (p) => {
      listed += p.length;
      progress();
    });
    await check('chats', chats.map(chatItem));
  }

  const rows = [...companies.values()].sort((a, b) => a.company.localeCompare(b.company, 'en', { numeric: true }));
  for (const c of rows) {
    const due = c.listed - c.inFlight;
    c.completeRatio = due > 0 ? c.complete / due : 1;
  }
  gaps.sort((a, b) => (a.sinceMs ?? 0) - (b.sinceMs ?? 0));
  const report: AuditReport = {
    runId: null,
    sinceMs: options.sinceMs,
    untilMs: options.untilMs,
    graceMs: options.graceMs,
    listed: rows.reduce((n, c) => n + c.listed, 0),
    complete: rows.reduce((n, c) => n + c.complete, 0),
    inFlight: rows.reduce((n, c) => n + c.inFlight, 0),
    gaps,
    overdue: rows.reduce((n, c) => n + c.overdue, 0),
    companies: rows,
  };
  if (options.record) {
    report.runId = randomUUID();
    await recordAuditRun(db, {
      runId: report.runId,
      trigger: options.record,
      windowStart: new Date(options.sinceMs),
      windowEnd: new Date(options.untilMs),
      graceSeconds: options.graceMs / 1000,
      companies: rows.map((c) => ({
        company: c.company,
        companyName: c.companyName,
        listed: c.listed,
        complete: c.complete,
        inFlight: c.inFlight,
        gaps: c.gaps,
        overdue: c.overdue,
        gapReasons: c.gapReasons,
        overdueReasons: c.overdueReasons,
        gapList: gaps
          .filter((g) => g.company === c.company)
          .slice(0, AUDIT_GAPS_KEPT)
          .map(({ subject, id, reason, detail, overdue }) => ({
            subject,
            id,
            reason,
            ...(detail ? { detail } : {}),
            overdue,
          })),
      })),
    });
  }
  return report;
}

/** The grace period's default: one reconcile interval plus the analysis delay (in minutes). */
export function defaultAuditGraceMinutes(reconcile: { everyMinutes: number; analysisAfterMinutes: number }): number {
  return reconcile.everyMinutes + reconcile.analysisAfterMinutes;
}
