import { latestAuditRuns } from '@callsync/db/reconcile';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { createDestination, defaultHandlers, runAudit, runReconcilePass } from '@callsync/domain';
import { Metrics } from '@callsync/metrics';
import { sampleCall, type SampleEvent } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { retellCliEnvironment } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { TEST_KEYS } from './support/keys';
import { startPipeline, type Pipeline } from './support/pipeline';
import { assertBuilt, CLI, run } from './support/processes';

/**
 * The completeness audit (issue 32): every call Retell lists is checked against what callsync holds.
 * Retell is the fake (a real HTTP server); the calls arrive through the real ingress and worker.
 */
const t = useTestDatabase();
let f: Awaited<ReturnType<typeof startFakeRetell>>;
let p: Pipeline;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  await t.db.deleteFrom('audit_runs').execute();
  f = await startFakeRetell({ maxRetries: 1, backoffMs: 10 });
  p = await startPipeline(t.db);
});
afterEach(async () => {
  await p.close();
  await f.fake.stop();
});

const MIN = 60_000;

/** A call Retell knows (as of `last`), with `events` of it delivered as webhooks and applied. */
async function call(
  label: string,
  o: { startMs: number; agentId?: string; last: SampleEvent; events: SampleEvent[] },
): Promise<string> {
  const callId = newCallId(label);
  const options = { callId, startMs: o.startMs, agentId: o.agentId ?? 'agent_audit', durationMs: 60_000 };
  f.fake.setCall(sampleCall(options, o.last));
  const ids: string[] = [];
  for (const e of o.events) ids.push((await p.deliver(body(e, options))).body.id);
  if (ids.length) await p.settled(ids);
  return callId;
}

function audit(...args: string[]) {
  return run(CLI, retellCliEnvironment(t.url, f.baseUrl), ['audit', ...args]);
}

describe('make audit', () => {
  it('reports a call only Retell knows until reconciliation has found it, then complete (exit 1, then 0)', async () => {
    const full = ['call_started', 'call_ended', 'call_analyzed'] as SampleEvent[];
    const delivered = await call('whole', { startMs: Date.now() - 30 * MIN, last: 'call_analyzed', events: full });
    const lost = await call('lost', { startMs: Date.now() - 30 * MIN, last: 'call_analyzed', events: [] });

    const before = audit('--since', '2h', '--grace', '5m');
    expect(await before.exited).toBe(1);
    const text = before.output();
    expect(text).toContain('listed 2, complete 1, in flight 0, gaps 1 (1 older than the grace period)');
    expect(text).toContain(lost);
    expect(text).toContain('no session');
    expect(text).not.toContain(delivered);

    // The scheduled pass, as the worker runs it: discovery lists the lost call and creates it.
    expect(
      await runReconcilePass(
        { db: t.db, retell: f.client, handlers: defaultHandlers },
        { trigger: 'scheduled', runner: 'test', staleAfterMinutes: 5, analysisAfterMinutes: 30, maxTries: 3 },
      ),
    ).toMatchObject({ discovered: 1, failed: 0 });

    const after = audit('--since', '2h', '--grace', '5m', '--json');
    expect(await after.exited).toBe(0);
    const json = JSON.parse(after.output()) as { listed: number; complete: number; gaps: number; gapList: unknown[] };
    expect(json).toMatchObject({ listed: 2, complete: 2, gaps: 0, gapList: [] });

    // Kept for the gauges and the notifier: the newest row says complete.
    const [latest, ...others] = await latestAuditRuns(t.db);
    expect(others).toEqual([]);
    expect(latest).toMatchObject({ company: 'unmapped', trigger: 'manual', listed: 2, complete: 2, gaps: 0 });
  });

  it('names what is missing: a session not final, an analysis, a forward; in-flight and young gaps do not fail it', async () => {
    const acme = await addCompany(t.db, 'Acme Audit', 'Europe/Berlin');
    await mapAgent(t.db, 'agent_acme', acme.id);
    const old = Date.now() - 60 * MIN;
    const notFinal = await call('notfinal', { startMs: old, last: 'call_ended', events: ['call_started'] });
    const notAnalyzed = await call('noanalysis', {
      startMs: old,
      last: 'call_analyzed',
      events: ['call_started', 'call_ended'],
    });
    const ongoing = await call('ongoing', { startMs: Date.now() - 2 * MIN, last: 'call_started', events: [] });
    // Ended a moment ago, no webhook yet: a gap, but within the grace period.
    const young = await call('young', { startMs: Date.now() - 3 * MIN, last: 'call_analyzed', events: [] });
    // Acme's destination exists, but no forward worker runs here: its deliveries stay pending.
    await createDestination(t.db, TEST_KEYS, {
      url: 'http://127.0.0.1:9/hook',
      events: ['call_ended'],
      companyId: acme.id,
      allowPrivate: true,
    });
    const unforwarded = await call('unforwarded', {
      startMs: old,
      agentId: 'agent_acme',
      last: 'call_analyzed',
      events: ['call_started', 'call_ended', 'call_analyzed'],
    });

    const report = await runAudit(
      { db: t.db, retell: f.client },
      { sinceMs: Date.now() - 2 * 60 * MIN, untilMs: Date.now(), graceMs: 10 * MIN, record: 'scheduled' },
    );
    expect(report).toMatchObject({ listed: 5, complete: 0, inFlight: 1, overdue: 3 });
    const gaps = Object.fromEntries(report.gaps.map((g) => [g.id, [g.reason, g.overdue, g.company]]));
    expect(gaps).toEqual({
      [notFinal]: ['not_final', true, 'unmapped'],
      [notAnalyzed]: ['not_analyzed', true, 'unmapped'],
      [young]: ['no_session', false, 'unmapped'],
      [unforwarded]: ['not_forwarded', true, acme.id],
    });
    expect(report.gaps.find((g) => g.id === unforwarded)?.detail).toMatch(/call_ended to destination \d+: pending/);
    expect(report.gaps.some((g) => g.id === ongoing)).toBe(false);

    // One company at a time.
    const onlyAcme = await runAudit(
      { db: t.db, retell: f.client },
      { sinceMs: Date.now() - 2 * 60 * MIN, untilMs: Date.now(), graceMs: 10 * MIN, companyId: acme.id },
    );
    expect(onlyAcme).toMatchObject({ listed: 1, complete: 0, overdue: 1 });

    // The gauges read the recorded run: gaps older than the grace period, per company and reason.
    const metrics = new Metrics('test', { processMetrics: false });
    metrics.watchState(t.db, []);
    const text = await metrics.text();
    expect(text).toContain(`callsync_audit_gaps{company="${acme.id}",reason="not_forwarded",service="test"} 1`);
    expect(text).toContain('callsync_audit_gaps{company="unmapped",reason="not_final",service="test"} 1');
    expect(text).toContain('callsync_audit_gaps{company="unmapped",reason="no_session",service="test"} 0');
    expect(text).toContain(`callsync_audit_complete_ratio{company="${acme.id}",service="test"} 0`);
  });

  it('refuses bad arguments and an unknown company with exit 2, naming the problem', async () => {
    const bad = audit('--since', 'yesterday');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--since: "yesterday" is not a duration');
    const nobody = audit('--company', 'Nobody GmbH');
    expect(await nobody.exited).toBe(2);
    expect(nobody.output()).toContain('no company "Nobody GmbH"');
  });
});
