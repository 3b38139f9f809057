import type { VersionDay } from '@callsync/db/ops';
import type { AgentReport, VersionFlag, VersionReport } from '@callsync/domain';
import type { Query } from './query';

/* The agent pages' view: versions compared side by side, and the per-day chart's series. Pure. */

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);
const LABELS: Record<VersionFlag['metric'], string> = {
  success_rate: 'success',
  error_rate: 'errors',
  e2e_p50_median: 'e2e latency',
};

/** The calls page filtered to one version (and the page's company and range). */
export function callsHref(agentId: string, version: number, q: Query): string {
  const params = new URLSearchParams({ agent: agentId, version: String(version) });
  for (const k of ['company', 'from', 'to'] as const) if (q[k]) params.set(k, q[k]!);
  return `/console/calls?${params.toString()}`;
}

/** The page's company and range, as a query string to keep on links. */
export function keep(q: Query): string {
  const params = new URLSearchParams();
  for (const k of ['company', 'from', 'to'] as const) if (q[k]) params.set(k, q[k]!);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** One row of the side-by-side table: a label and a cell per version, the flagged metric marked. */
export function rowsOf(versions: readonly VersionReport[]) {
  const row = (label: string, text: (v: VersionReport) => string, metric?: VersionFlag['metric']) => ({
    label,
    cells: versions.map((v) => ({
      text: text(v),
      flag: metric ? v.flags.find((f) => f.metric === metric) : undefined,
    })),
  });
  const pair = (a: number | null, b: number | null) => `${ms(a)} / ${ms(b)}`;
  return [
    row('Calls (sample size)', (v) => String(v.calls)),
    row('Success rate (n analyzed)', (v) => `${pct(v.success_rate)} (n=${v.analyzed})`, 'success_rate'),
    row(
      'Sentiment positive / neutral / negative / unknown',
      (v) => `${v.sentiment.positive} / ${v.sentiment.neutral} / ${v.sentiment.negative} / ${v.sentiment.unknown}`,
    ),
    row('Voicemail rate', (v) => pct(v.voicemail_rate)),
    row('Transfer rate', (v) => pct(v.transfer_rate)),
    row('Error rate', (v) => pct(v.error_rate), 'error_rate'),
    row('Median duration', (v) =>
      v.median_duration_ms === null ? '–' : `${(v.median_duration_ms / 1000).toFixed(1)} s`,
    ),
    row('Cost per minute', (v) => (v.cost_cents_per_minute === null ? '–' : `${v.cost_cents_per_minute.toFixed(2)} ¢`)),
    row(
      'e2e p50: median [95% interval] (n)',
      (v) =>
        `${ms(v.e2e_p50_median)}${v.e2e_interval ? ` [${v.e2e_interval.low}–${v.e2e_interval.high}]` : ''} (n=${v.latency_calls})`,
      'e2e_p50_median',
    ),
    row('e2e p50: p90', (v) => ms(v.e2e_p50_p90)),
    row('LLM p50: median / p90', (v) => pair(v.llm_p50_median, v.llm_p50_p90)),
    row('TTS p50: median / p90', (v) => pair(v.tts_p50_median, v.tts_p50_p90)),
    row('Tokens per call', (v) => (v.tokens_per_call === null ? '–' : String(Math.round(v.tokens_per_call)))),
  ];
}

/** The agents list: each agent's newest versions with their headline figures and flags. */
export function agentsView(reports: readonly AgentReport[], q: Query) {
  return reports.map((a) => ({
    agent_id: a.agent_id,
    href: `/console/agents/${encodeURIComponent(a.agent_id)}${keep(q)}`,
    versions: a.versions.map((v) => ({
      agent_version: v.agent_version,
      callsHref: callsHref(a.agent_id, v.agent_version, q),
      calls: v.calls,
      success: `${pct(v.success_rate)} (n=${v.analyzed})`,
      e2e: ms(v.e2e_p50_median),
      errors: pct(v.error_rate),
      cost: v.cost_cents_per_minute === null ? '–' : `${v.cost_cents_per_minute.toFixed(2)} ¢`,
      flags: v.flags.map((fl) => ({
        verdict: fl.verdict,
        label: `${LABELS[fl.metric]} ${fl.verdict} than v${v.compared_with} (${fl.evidence})`,
      })),
    })),
  }));
}

/** One agent's page: its versions side by side, their functions, and where the chart reads its data. */
export function agentView(agentId: string, versions: readonly VersionReport[], q: Query) {
  const action = `/console/agents/${encodeURIComponent(agentId)}`;
  return {
    action,
    agentId,
    versions: versions.map((v) => ({ ...v, callsHref: callsHref(agentId, v.agent_version, q) })),
    rows: rowsOf(versions),
    functions: versions.flatMap((v) =>
      v.functions.map((fn) => ({
        ...fn,
        failure: `${pct(fn.failure_rate)} (n=${fn.finished})`,
        p90: ms(fn.p90_duration_ms),
      })),
    ),
    chartSrc: `${action}/chart.json${keep(q)}`,
  };
}

/**
 * The agent chart's series, per version and day (UTC): calls, success rate (%) and median e2e p50,
 * null on a day without data. Days run from the first with calls (or `from` when the page gives
 * one) to `to`.
 */
export function versionChart(
  shown: readonly number[],
  days: readonly VersionDay[],
  range: { from: Date; to: Date; fromGiven: boolean },
) {
  const { from, to } = range;
  const firstDay = range.fromGiven ? from : (days.map((d) => d.day).sort((a, b) => a.getTime() - b.getTime())[0] ?? to);
  const x: number[] = [];
  for (let d = Math.floor(firstDay.getTime() / 86400_000) * 86400; d <= to.getTime() / 1000; d += 86400) x.push(d);
  const index = new Map(x.map((v, i) => [v, i]));
  const versions = shown.map((version) => ({
    version,
    success: x.map((): number | null => null),
    e2e: x.map((): number | null => null),
    calls: x.map(() => 0),
  }));
  for (const d of days) {
    const i = index.get(d.day.getTime() / 1000);
    const series = versions.find((v) => v.version === d.agent_version);
    if (i === undefined || !series) continue;
    series.calls[i] = d.calls;
    series.success[i] = d.analyzed ? Math.round((d.successful / d.analyzed) * 1000) / 10 : null;
    series.e2e[i] = d.e2e_p50_median;
  }
  return { x, versions };
}
