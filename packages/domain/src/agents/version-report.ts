import { type Db } from '@callsync/db';
import {
  agentFunctionStats,
  agentVersionStats,
  e2eMedianIntervals,
  listAgentVersions,
  type AgentFunctionStats,
  type AgentStatsFilter,
  type AgentVersionStats,
  type MedianInterval,
} from '@callsync/db/ops';
import { compareVersions, type VersionFlag } from './compare-versions';

export interface VersionReport extends AgentVersionStats {
  e2e_interval: MedianInterval | null;
  functions: AgentFunctionStats[];
  /** Differences from the next older version shown that are beyond noise (compare-versions.ts). */
  flags: VersionFlag[];
  /** The version this one is compared with, if any. */
  compared_with: number | null;
}

export interface AgentReport {
  agent_id: string;
  /** Newest first. */
  versions: VersionReport[];
}

/**
 * The newest `versions` versions of one agent (or of every agent), each with its numbers, function
 * health, and what changed beyond noise from the version before it.
 */
export async function agentVersionReports(
  db: Db,
  f: AgentStatsFilter & { agentId?: string; versions: number },
): Promise<AgentReport[]> {
  const agents = await listAgentVersions(db, { ...f, perAgent: f.versions });
  return Promise.all(
    agents.map(async ({ agent_id, versions }) => {
      const filter = { ...f, agentId: agent_id, versions };
      const [stats, intervals, functions] = await Promise.all([
        agentVersionStats(db, filter),
        e2eMedianIntervals(db, filter),
        agentFunctionStats(db, filter),
      ]);
      const reports = stats.map((s): VersionReport => ({
        ...s,
        e2e_interval: intervals.find((i) => i.agent_version === s.agent_version) ?? null,
        functions: functions.filter((fn) => fn.agent_version === s.agent_version),
        flags: [],
        compared_with: null,
      }));
      for (let i = 0; i + 1 < reports.length; i++) {
        const newer = reports[i]!;
        const older = reports[i + 1]!;
        newer.compared_with = older.agent_version;
        newer.flags = compareVersions(sampleOf(older), sampleOf(newer));
      }
      return { agent_id, versions: reports };
    }),
  );
}

function sampleOf(r: VersionReport) {
  const e = r.e2e_interval;
  return {
    version: r.agent_version,
    success: { hits: r.successful, n: r.analyzed },
    errors: { hits: Math.round((r.error_rate ?? 0) * r.calls), n: r.calls },
    e2e: e && r.e2e_p50_median !== null ? { n: e.n, median: r.e2e_p50_median, low: e.low, high: e.high } : undefined,
  };
}
