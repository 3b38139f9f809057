import { hostname } from 'node:os';
import type { Config } from '@callsync/config';
import type { Db } from '@callsync/db';
import { findCallSession } from '@callsync/db/sessions';
import { defaultAuditGraceMinutes, defaultHandlers, runAudit, runReconcilePass } from '@callsync/domain';
import { createForwardQueue, createRedisConnection, ensureForwardJobs } from '@callsync/queue';
import { sampleCall, sampleWebhookBody, type SampleCallOptions } from '@callsync/retell';
import { waitUntil } from '@callsync/runtime';
import { auditLine } from '../commands/audit';
import { retellClient } from '../retell-client';
import { DEMO_AGENT } from './scenarios';
import type { Send } from './signed-post';

/** True when RETELL_API_BASE_URL is the fake Retell API (local runs without an account). */
export async function isFakeRetell(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/__fake/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export const lostCallOf = (stale: string) => stale.replace('demo_stale_', 'demo_lost_');

/** Tell the fake Retell API what its get-call and list-calls say about a call. */
async function putFakeCall(config: Config, call: SampleCallOptions, event: 'call_ended' | 'call_analyzed') {
  await fetch(`${config.retell.apiBaseUrl}/__fake/calls/${call.callId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleCall(call, event)),
  });
}

/** Send call_started for a call that started long ago, and tell the fake Retell API how it ended. Its id. */
export async function sendStaleCall(config: Config, run: string, send: Send): Promise<string> {
  const stale = {
    callId: `demo_stale_${run}`,
    agentId: DEMO_AGENT,
    startMs: Date.now() - (config.reconcile.staleAfterMinutes + 5) * 60_000,
  };
  console.log(`only call_started, then silence (closed by reconciliation): ${stale.callId}`);
  console.log(`  POST ${'call_started'.padEnd(28)} -> ${await send(sampleWebhookBody(stale, 'call_started'))}`);
  // What Retell's get-call will say about it.
  await putFakeCall(config, stale, 'call_ended');
  // And a call whose webhooks never arrived at all: only Retell knows it. Reconciliation discovers it.
  const lost = { callId: lostCallOf(stale.callId), agentId: DEMO_AGENT, startMs: Date.now() - 2 * 60_000 };
  console.log(`no webhook at all, only at Retell (found by reconciliation's discovery): ${lost.callId}`);
  await putFakeCall(config, lost, 'call_analyzed');
  return stale.callId;
}

/**
 * What reconciliation makes of the stale and the lost call, now rather than within
 * RECONCILE_EVERY_MINUTES: one pass, as `make reconcile` runs it, then both sessions. The lost call
 * was only ever listed (list-calls has no transcripts); get-call gave it its transcript.
 */
export async function reconcileNow(config: Config, db: Db, stale: string): Promise<void> {
  const lost = lostCallOf(stale);
  // What `make audit` says now: Retell lists the lost call, callsync has no session for it.
  await auditNow(config, db, 'audit before reconciliation', lost);
  console.log('\nreconciliation (one pass now, as make reconcile runs it)');
  const connection = createRedisConnection(config.redis, { name: 'callsync-demo' });
  const forwardQueue = createForwardQueue(connection, config.redis.prefix);
  let summary;
  try {
    summary = await runReconcilePass(
      // What it applies is forwarded at once, as the scheduled pass does.
      {
        db,
        retell: retellClient(config),
        handlers: defaultHandlers,
        enqueueForwards: async (heads) => void (await ensureForwardJobs(forwardQueue, heads)),
      },
      {
        trigger: 'manual',
        runner: `${hostname()}:${process.pid}:demo`,
        staleAfterMinutes: config.reconcile.staleAfterMinutes,
        analysisAfterMinutes: config.reconcile.analysisAfterMinutes,
        maxTries: config.reconcile.maxTries,
      },
    );
  } finally {
    await forwardQueue.close();
    connection.disconnect();
  }
  console.log(`  found ${summary.found}, ended ${summary.ended}, discovered ${summary.discovered}`);
  for (const [label, id] of [
    ['only call_started, closed by get-call', stale],
    ['never a webhook, discovered by list-calls, completed by get-call', lost],
  ] as const) {
    const s = await findCallSession(db, id);
    const firstLine = s?.transcript?.split('\n')[0];
    console.log(
      `  ${id} (${label}): ${s ? `${s.call_status}, transcript ${firstLine ? `"${firstLine} …"` : 'none'}` : 'no session'}`,
    );
  }
  await auditNow(config, db, 'audit after reconciliation', lost, true);
}

/**
 * `make audit` over the last hour, as one line, and what it says about the lost call. After the
 * pass, the lost call's forwards are still on their way for a moment: the audit is asked again
 * (for up to 15 s) until they have arrived, as an operator would see it a little later.
 */
async function auditNow(config: Config, db: Db, label: string, lost: string, settle = false): Promise<void> {
  const audit = async () => {
    const untilMs = Date.now();
    const report = await runAudit(
      { db, retell: retellClient(config) },
      { sinceMs: untilMs - 3600_000, untilMs, graceMs: defaultAuditGraceMinutes(config.reconcile) * 60_000 },
    );
    return { report, gap: report.gaps.find((g) => g.id === lost) };
  };
  let result = await audit();
  if (settle && result.gap)
    result =
      (await waitUntil(async () => ((result = await audit()).gap ? undefined : result), {
        timeoutMs: 15_000,
        intervalMs: 500,
      })) ?? result;
  console.log(`\n${label} (make audit ARGS="--since 1h"): ${auditLine(result.report)}`);
  console.log(`  ${lost}: ${result.gap ? `gap, ${result.gap.reason}` : 'complete'}`);
}
