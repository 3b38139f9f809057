import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { Metrics } from '@callsync/metrics';
import { useTestDatabase } from './support/database';
import { ROOT } from './support/processes';

/**
 * The alert rules (ops/prometheus/alerts.yml) and the Grafana dashboard (ops/grafana/callsync.json),
 * checked with Debian's promtool: the rules parse, each alert fires on the series it is about and stays
 * silent otherwise, every panel's PromQL parses, and every series they name is one callsync exports.
 */
const exec = promisify(execFile);
const t = useTestDatabase();
const ALERTS = join(ROOT, 'ops/prometheus/alerts.yml');
const DASHBOARD = join(ROOT, 'ops/grafana/callsync.json');
const dir = mkdtempSync(join(tmpdir(), 'callsync-promtool-'));

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}
const rules: Rule[] = (parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('promtool', args, { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** One promtool case: these series, and at `at` the alert fires with `labels`, or not at all. */
interface Case {
  alert: string;
  series: Record<string, string>;
  at: string;
  fires?: Record<string, string>;
}

const job = (service: string) => `job="callsync-${service}",instance="${service}-1:9464",service="${service}"`;
const CASES: Case[] = [
  {
    alert: 'CallsyncEventsFailed',
    series: { [`callsync_events_handled_total{${job('worker')},event="call_ended",outcome="failed"}`]: '0 0 0 1 1 1' },
    at: '5m',
    fires: {},
  },
  {
    alert: 'CallsyncEventsFailed',
    series: { [`callsync_events_handled_total{${job('worker')},event="call_ended",outcome="processed"}`]: '0+10x10' },
    at: '5m',
  },
  {
    alert: 'CallsyncEventsPendingTooLong',
    series: { [`callsync_oldest_pending_event_seconds{${job('worker')}}`]: '0 400x6' },
    at: '5m',
    fires: {},
  },
  {
    alert: 'CallsyncEventsPendingTooLong',
    series: { [`callsync_oldest_pending_event_seconds{${job('worker')}}`]: '120x6' },
    at: '5m',
  },
  {
    alert: 'CallsyncCallsStuckInProgress',
    series: { [`callsync_sessions_stuck_in_progress{${job('worker')}}`]: '0 2x15' },
    at: '13m',
    fires: {},
  },
  {
    alert: 'CallsyncCallsStuckInProgress',
    series: { [`callsync_sessions_stuck_in_progress{${job('worker')}}`]: '0x15' },
    at: '13m',
  },
  {
    alert: 'CallsyncCallsWithoutAnalysis',
    series: { [`callsync_sessions_ended_without_analysis_over_1h{${job('worker')}}`]: '0 3x20' },
    at: '18m',
    fires: {},
  },
  {
    alert: 'CallsyncCallsWithoutAnalysis',
    series: { [`callsync_sessions_ended_without_analysis_over_1h{${job('worker')}}`]: '0 3x10 0x10' },
    at: '20m',
  },
  {
    alert: 'CallsyncBadSignatures',
    series: {
      [`callsync_webhook_deliveries_total{${job('ingress')},event="call_started",outcome="bad_signature"}`]: '0+5x10',
    },
    at: '6m',
    fires: {},
  },
  {
    alert: 'CallsyncBadSignatures',
    series: {
      [`callsync_webhook_deliveries_total{${job('ingress')},event="call_started",outcome="bad_signature"}`]: '0+1x10',
    },
    at: '6m',
  },
  {
    alert: 'CallsyncNotReady',
    series: { [`callsync_ready{${job('ingress')}}`]: '1 0x5', [`up{${job('ingress')}}`]: '1x6' },
    at: '4m',
    fires: { service: 'ingress', instance: 'ingress-1:9464' },
  },
  {
    alert: 'CallsyncNotReady',
    series: { [`callsync_ready{${job('worker')}}`]: '1x6', [`up{${job('worker')}}`]: '1 0x5' },
    at: '4m',
    fires: { job: 'callsync-worker', instance: 'worker-1:9464', service: 'worker' },
  },
  {
    alert: 'CallsyncNotReady',
    series: { [`callsync_ready{${job('ingress')}}`]: '1 0 1 1 1 1', [`up{${job('ingress')}}`]: '1x6' },
    at: '4m',
  },
  {
    alert: 'CallsyncReconcileFailing',
    series: { [`callsync_reconcile_calls_total{${job('worker')},outcome="failed"}`]: '0 0 2 2' },
    at: '3m',
    fires: {},
  },
  {
    alert: 'CallsyncReconcileFailing',
    series: { [`callsync_reconcile_calls_total{${job('worker')},outcome="ended"}`]: '0 0 2 2' },
    at: '3m',
  },
  {
    alert: 'CallsyncRetentionFailed',
    series: { [`callsync_retention_last_run_failed{${job('worker')}}`]: '0 1x15' },
    at: '13m',
    fires: {},
  },
  {
    alert: 'CallsyncRetentionFailed',
    series: { [`callsync_retention_last_run_failed{${job('worker')}}`]: '0 1x5 0x10' },
    at: '13m',
  },
  {
    alert: 'CallsyncForwardDestinationPaused',
    series: { [`callsync_forward_held{${job('worker')},destination="1"}`]: '0 5x20' },
    at: '17m',
    fires: { destination: '1' },
  },
  {
    // Paused with nothing held yet: still nothing reaches it.
    alert: 'CallsyncForwardDestinationPaused',
    series: {
      [`callsync_forward_destination_paused{${job('worker')},destination="4"}`]: '_ 1x20',
      [`callsync_forward_held{${job('worker')},destination="4"}`]: '0x20',
    },
    at: '17m',
    fires: { destination: '4' },
  },
  {
    // Paused for 10 minutes only.
    alert: 'CallsyncForwardDestinationPaused',
    series: { [`callsync_forward_destination_paused{${job('worker')},destination="4"}`]: '_x7 1x10' },
    at: '17m',
  },
  {
    alert: 'CallsyncForwardDestinationPaused',
    series: { [`callsync_forward_held{${job('worker')},destination="1"}`]: '0 5x5 0x10' },
    at: '13m',
  },
  {
    alert: 'CallsyncForwardBacklog',
    series: { [`callsync_forward_oldest_pending_seconds{${job('worker')},destination="2"}`]: '4000x15' },
    at: '12m',
    fires: { destination: '2' },
  },
  {
    alert: 'CallsyncForwardBacklog',
    series: { [`callsync_forward_oldest_pending_seconds{${job('worker')},destination="2"}`]: '600x15' },
    at: '12m',
  },
  {
    alert: 'CallsyncForwardBacklog',
    series: { [`callsync_forward_oldest_pending_seconds{${job('worker')},destination="2"}`]: '1500+60x20' },
    at: '15m',
    fires: { destination: '2' },
  },
  {
    alert: 'CallsyncWebhooksLost',
    series: { [`callsync_reconcile_calls_total{${job('worker')},outcome="discovered"}`]: '0 0 1 1 1' },
    at: '4m',
    fires: {},
  },
  {
    // One discovered 100 minutes ago: over.
    alert: 'CallsyncWebhooksLost',
    series: { [`callsync_reconcile_calls_total{${job('worker')},outcome="discovered"}`]: '0 1x100' },
    at: '100m',
  },
  {
    alert: 'CallsyncNoWebhooks',
    series: {
      [`callsync_webhook_deliveries_total{${job('ingress')},event="call_ended",outcome="accepted"}`]: '50x40',
      [`callsync_reconcile_listed_total{${job('worker')},kind="calls"}`]: '0+3x40',
    },
    at: '35m',
    fires: {},
  },
  {
    // An ingress that never accepted anything has no accepted series at all.
    alert: 'CallsyncNoWebhooks',
    series: { [`callsync_reconcile_listed_total{${job('worker')},kind="calls"}`]: '0+3x40' },
    at: '35m',
    fires: {},
  },
  {
    alert: 'CallsyncNoWebhooks',
    series: {
      [`callsync_webhook_deliveries_total{${job('ingress')},event="call_ended",outcome="accepted"}`]: '0+5x40',
      [`callsync_reconcile_listed_total{${job('worker')},kind="calls"}`]: '0+3x40',
    },
    at: '35m',
  },
  {
    // Quiet hours: no webhooks, and Retell lists no calls either.
    alert: 'CallsyncNoWebhooks',
    series: {
      [`callsync_webhook_deliveries_total{${job('ingress')},event="call_ended",outcome="accepted"}`]: '50x40',
      [`callsync_reconcile_listed_total{${job('worker')},kind="calls"}`]: '9x40',
    },
    at: '35m',
  },
  {
    alert: 'CallsyncAuditGaps',
    series: {
      [`callsync_audit_gaps{${job('worker')},company="3",reason="no_session"}`]: '0 2x5',
      [`callsync_audit_gaps{${job('worker')},company="3",reason="not_forwarded"}`]: '0x6',
      [`callsync_audit_gaps{${job('worker')},company="unmapped",reason="no_session"}`]: '0x6',
    },
    at: '3m',
    fires: { company: '3', reason: 'no_session' },
  },
  {
    alert: 'CallsyncAuditGaps',
    series: { [`callsync_audit_gaps{${job('worker')},company="3",reason="no_session"}`]: '0 2 2 0 0 0' },
    at: '5m',
  },
  ...agentVersionCases(),
];

/** CallsyncAgentVersionWorse: the newest version against the previous one, from two workers' gauges. */
function agentVersionCases(): Case[] {
  const versions = (o: {
    success: [number, number];
    calls: number;
    p90?: [number, number];
    failures?: [number, number];
  }) =>
    Object.fromEntries(
      ['worker-1', 'worker-2'].flatMap((instance) =>
        (['newest', 'previous'] as const).flatMap((slot, i) => {
          const l = `job="callsync-worker",instance="${instance}:9464",service="worker",agent="agent_x",slot="${slot}"`;
          return [
            [`callsync_agent_version_success_rate{${l}}`, `${o.success[i]}x40`],
            [`callsync_agent_version_calls{${l}}`, `${o.calls}x40`],
            [`callsync_agent_version_analyzed_calls{${l}}`, `${o.calls}x40`],
            [`callsync_agent_version_e2e_p90_seconds{${l}}`, `${(o.p90 ?? [1, 1])[i]}x40`],
            [`callsync_agent_version_function_failure_rate{${l}}`, `${(o.failures ?? [0.02, 0.02])[i]}x40`],
          ];
        }),
      ),
    );
  return [
    {
      alert: 'CallsyncAgentVersionWorse',
      series: versions({ success: [0.55, 0.8], calls: 200 }),
      at: '35m',
      fires: { agent: 'agent_x' },
    },
    // The same drop on 40 calls each is below the alert's minimum sample.
    { alert: 'CallsyncAgentVersionWorse', series: versions({ success: [0.55, 0.8], calls: 40 }), at: '35m' },
    // 5 points less success and 10% slower: within the thresholds.
    {
      alert: 'CallsyncAgentVersionWorse',
      series: versions({ success: [0.75, 0.8], calls: 500, p90: [1.1, 1] }),
      at: '35m',
    },
    {
      alert: 'CallsyncAgentVersionWorse',
      series: versions({ success: [0.8, 0.8], calls: 500, p90: [1.6, 1.1] }),
      at: '35m',
      fires: { agent: 'agent_x' },
    },
    {
      alert: 'CallsyncAgentVersionWorse',
      series: versions({ success: [0.8, 0.8], calls: 500, failures: [0.12, 0.02] }),
      at: '35m',
      fires: { agent: 'agent_x' },
    },
  ];
}

/** The annotations promtool renders for an alert with these labels ($labels only: they name no values). */
function rendered(rule: Rule, labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([k, v]) => [
      k,
      v.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? ''),
    ]),
  );
}

/** Every callsync series the processes register (state gauges, readiness and the ingress backlog included). */
function exportedNames(): Set<string> {
  const m = new Metrics('check');
  m.watchState(t.db, []);
  m.watchReadiness(async () => true);
  m.watchBacklog(() => ({ requests: 0, bytes: 0 }));
  return new Set(m.registry.getMetricsAsArray().map((x) => x.name));
}

/** The callsync series an expression reads (histogram suffixes stripped). */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(callsync_[a-z0-9_]+)/g)].map((x) => x[1]!.replace(/_(bucket|sum|count)$/, ''));
}

describe('alert rules', () => {
  it('parse, and every alert has a severity, a summary and a runbook', async () => {
    const check = await promtool('check', 'rules', ALERTS);
    expect(check).toMatchObject({ code: 0 });
    expect(check.out).toContain(`SUCCESS: ${rules.length} rules found`);
    for (const r of rules) {
      expect({ alert: r.alert, severity: r.labels?.severity }).toEqual({
        alert: r.alert,
        severity: expect.stringMatching(/^(page|ticket)$/),
      });
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.runbook?.length).toBeGreaterThan(80);
    }
    const names = ['CallsyncEventsFailed', 'CallsyncEventsPendingTooLong', 'CallsyncCallsStuckInProgress'];
    for (const n of [...names, 'CallsyncCallsWithoutAnalysis', 'CallsyncBadSignatures', 'CallsyncNotReady'])
      expect(rules.map((r) => r.alert)).toContain(n);
    expect(rules.map((r) => r.alert)).toContain('CallsyncReconcileFailing');
    // Issue 32: silent loss, the audit, retention and forwarding each have their alert.
    for (const n of [
      'CallsyncWebhooksLost',
      'CallsyncNoWebhooks',
      'CallsyncAuditGaps',
      'CallsyncRetentionFailed',
      'CallsyncForwardDestinationPaused',
      'CallsyncForwardBacklog',
    ])
      expect(rules.map((r) => r.alert)).toContain(n);
  });

  it('fire on what they are about, and stay silent otherwise (promtool test rules)', async () => {
    // Every alert is tested both ways.
    for (const r of rules) {
      expect({ alert: r.alert, firing: CASES.some((c) => c.alert === r.alert && c.fires) }).toEqual({
        alert: r.alert,
        firing: true,
      });
      expect({ alert: r.alert, silent: CASES.some((c) => c.alert === r.alert && !c.fires) }).toEqual({
        alert: r.alert,
        silent: true,
      });
    }
    const file = {
      rule_files: [ALERTS],
      evaluation_interval: '1m',
      tests: CASES.map((c) => {
        const rule = rules.find((r) => r.alert === c.alert)!;
        const labels = { ...c.fires, severity: rule.labels!.severity! };
        return {
          interval: '1m',
          input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
          alert_rule_test: [
            {
              eval_time: c.at,
              alertname: c.alert,
              exp_alerts: c.fires ? [{ exp_labels: labels, exp_annotations: rendered(rule, labels) }] : [],
            },
          ],
        };
      }),
    };
    writeFileSync(join(dir, 'alerts.test.yml'), stringify(file));
    const run = await promtool('test', 'rules', join(dir, 'alerts.test.yml'));
    expect(run.out).toContain('SUCCESS');
    expect(run.code).toBe(0);
  });

  it('read only series callsync exports', () => {
    const names = exportedNames();
    for (const r of rules)
      for (const s of seriesIn(r.expr))
        expect({ alert: r.alert, series: s, known: names.has(s) }).toMatchObject({ known: true });
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => ({ panel: p.title, expr: x.expr })));

  it("covers what the operator watches, and every panel's PromQL parses (promtool, as recording rules)", async () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const series of [
      'callsync_webhook_deliveries_total',
      'callsync_webhook_ack_seconds_bucket',
      'callsync_queue_jobs',
      'callsync_oldest_pending_event_seconds',
      'callsync_events_handled_total',
      'callsync_sessions_stuck_in_progress',
      'callsync_sessions_ended_without_analysis_over_1h',
      'callsync_reconcile_calls_total',
      'callsync_sessions_24h',
      'callsync_live_request_seconds_bucket',
      'callsync_forward_latency_seconds_bucket',
      // Issue 32: completeness and the gauges that can clear.
      'callsync_audit_complete_ratio',
      'callsync_audit_gaps',
      'callsync_reconcile_listed_total',
      'callsync_sessions_reconcile_given_up',
      'callsync_forward_destination_paused',
    ])
      expect(all).toContain(series);
    const file = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((e, i) => ({ record: `callsync:dashboard_panel_${i}`, expr: e.expr })),
        },
      ],
    };
    writeFileSync(join(dir, 'dashboard.rules.yml'), stringify(file));
    const check = await promtool('check', 'rules', join(dir, 'dashboard.rules.yml'));
    expect(check.out).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(check.code).toBe(0);
  });

  it('reads only series callsync exports', () => {
    const names = exportedNames();
    for (const e of exprs)
      for (const s of seriesIn(e.expr))
        expect({ panel: e.panel, series: s, known: names.has(s) }).toMatchObject({ known: true });
  });
});
