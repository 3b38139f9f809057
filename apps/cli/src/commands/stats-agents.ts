import type { Db } from '@callsync/db';
import { agentVersionReports, MIN_SAMPLE, type VersionReport } from '@callsync/domain';
import { table } from '../table';

/** `make stats ARGS="--agents"`: each agent's newest versions side by side, differences beyond noise flagged. */
export async function printAgentStats(
  db: Db,
  options: { companyId?: string; companyName?: string; from?: Date; versions: number; json: boolean },
): Promise<void> {
  const reports = await agentVersionReports(db, {
    companyId: options.companyId,
    from: options.from,
    versions: options.versions,
  });
  if (options.json) {
    console.log(JSON.stringify({ min_sample: MIN_SAMPLE, agents: reports }, null, 2));
    return;
  }
  const scope = options.companyName ? ` for ${options.companyName}` : '';
  console.log(`Agent versions${scope}${options.from ? ` since ${options.from.toISOString()}` : ''}`);
  if (reports.length === 0) console.log('  (no calls with an agent version)');
  for (const a of reports) {
    console.log(`\n${a.agent_id}`);
    console.log(table(a.versions.map(row), COLUMNS));
    for (const v of a.versions)
      for (const f of v.flags)
        console.log(`  v${v.agent_version} vs v${v.compared_with}: ${f.metric} ${f.verdict} (${f.evidence})`);
    const functions = a.versions.flatMap((v) =>
      v.functions.map((f) => ({
        version: `v${v.agent_version}`,
        function: f.name,
        invocations: f.invocations,
        'failure %': pct(f.failure_rate),
        'p90 ms': f.p90_duration_ms ?? '',
      })),
    );
    if (functions.length) console.log(table(functions, ['version', 'function', 'invocations', 'failure %', 'p90 ms']));
  }
  console.log(
    `\nA difference is flagged only beyond noise: rates by a two-proportion z-test at 95% (|z| >= 1.96), latency when the\n` +
      `medians' 95% intervals do not overlap; both need ${MIN_SAMPLE} calls per version.`,
  );
}

const pct = (r: number | null) => (r === null ? '' : (r * 100).toFixed(1));
const ms = (v: number | null) => (v === null ? '' : String(Math.round(v)));

const COLUMNS = [
  'version',
  'calls',
  'success %',
  'pos/neu/neg',
  'voicemail %',
  'transfer %',
  'error %',
  'median s',
  'cents/min',
  'e2e p50 med',
  'e2e p90',
  'llm med',
  'tts med',
  'tokens/call',
];

function row(v: VersionReport): Record<string, unknown> {
  return {
    version: `v${v.agent_version}`,
    calls: v.calls,
    'success %': v.success_rate === null ? '' : `${pct(v.success_rate)} (n=${v.analyzed})`,
    'pos/neu/neg': `${v.sentiment.positive}/${v.sentiment.neutral}/${v.sentiment.negative}`,
    'voicemail %': pct(v.voicemail_rate),
    'transfer %': pct(v.transfer_rate),
    'error %': pct(v.error_rate),
    'median s': v.median_duration_ms === null ? '' : (v.median_duration_ms / 1000).toFixed(1),
    'cents/min': v.cost_cents_per_minute === null ? '' : v.cost_cents_per_minute.toFixed(2),
    'e2e p50 med': ms(v.e2e_p50_median),
    'e2e p90': ms(v.e2e_p50_p90),
    'llm med': ms(v.llm_p50_median),
    'tts med': ms(v.tts_p50_median),
    'tokens/call': v.tokens_per_call === null ? '' : Math.round(v.tokens_per_call),
  };
}
