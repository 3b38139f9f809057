import type { Registry } from 'prom-client';
import type { AgentVersionHealth } from '@callsync/db/ops';
import { rowGauges } from './series';

/**
 * Per agent (registered in retell_agents) and slot (newest, previous version): what the alert
 * CallsyncAgentVersionWorse compares. The version number is a gauge of its own, not a label, so a
 * release does not start new series and `on(agent)` matches the two slots.
 */
export function registerAgentGauges(registry: Registry, read: () => Promise<AgentVersionHealth[]>): void {
  const gauge = rowGauges(registry, ['agent', 'slot'], read, (r) => ({ agent: r.agent_id, slot: r.slot }));
  gauge(
    'callsync_agent_version',
    "The agent's newest and previous version with calls in the last 7 days.",
    (r) => r.agent_version,
  );
  gauge('callsync_agent_version_calls', 'Calls of the version in the last 7 days.', (r) => r.calls);
  gauge(
    'callsync_agent_version_analyzed_calls',
    'Calls of the version in the last 7 days whose analysis says successful or not (the success rate’s sample).',
    (r) => r.analyzed,
  );
  gauge(
    'callsync_agent_version_success_rate',
    'Share (0-1) of the analyzed calls that were successful.',
    (r) => r.success_rate,
  );
  gauge(
    'callsync_agent_version_e2e_p90_seconds',
    "p90 over the version's calls of each call's e2e p50 latency (Retell's latency.e2e.p50).",
    (r) => (r.e2e_p50_p90_ms === null ? null : r.e2e_p50_p90_ms / 1000),
  );
  gauge(
    'callsync_agent_version_function_failure_rate',
    'Share (0-1) of finished custom function invocations that failed (error, timeout, bad_args).',
    (r) => r.function_failure_rate,
  );
}
