import type { Db } from '@callsync/db';
import { countPendingEventsOfCalls } from '@callsync/db/ops';
import { sampleCall, type CallWebhookBody } from '@callsync/retell';
import { waitUntil } from '@callsync/runtime';

/** Calls per version: enough for the comparison's minimum sample (30) with room to spare. */
const CALLS_PER_VERSION = 40;
const DAY = 86400_000;

/**
 * `make demo`'s agent versions: the demo agent's previous version (41) over the last week until three
 * days ago, then the newest (42, the version of the demo's other calls) since: 42 answers faster but
 * books fewer appointments, so /console/agents/<agent> flags one difference each way. One call_analyzed
 * per call (it carries the whole call), with the success, sentiment and latency of its version.
 */
export function versionCalls(agentId: string, run: string, now = Date.now()): { callId: string; body: string }[] {
  const out: { callId: string; body: string }[] = [];
  for (const version of [41, 42])
    for (let i = 0; i < CALLS_PER_VERSION; i++) {
      const callId = `demo_v${version}_${run}_${i}`;
      const start =
        version === 41
          ? now - 7 * DAY + i * ((4 * DAY) / CALLS_PER_VERSION)
          : now - 3 * DAY + i * ((3 * DAY) / CALLS_PER_VERSION) - 5 * 60_000;
      const call = sampleCall(
        { callId, agentId, agentVersion: version, startMs: start, durationMs: 40_000 + ((i * 7919) % 80_000) },
        'call_analyzed',
      );
      const spread = (i * 37) % 200;
      const e2e = (version === 41 ? 900 : 700) + spread;
      call.latency = {
        e2e: { p50: e2e, p90: e2e + 350, min: e2e - 200, max: e2e + 900, num: 6 },
        llm: { p50: Math.round(e2e * 0.55), p90: Math.round(e2e * 0.8), num: 6 },
        tts: { p50: 180 + (spread % 60), p90: 260 + (spread % 60), num: 6 },
      };
      const successful = version === 41 ? i % 5 !== 0 : i % 20 < 11;
      call.call_analysis = {
        ...call.call_analysis,
        call_successful: successful,
        user_sentiment: successful ? 'Positive' : i % 2 ? 'Neutral' : 'Negative',
        call_summary: successful ? 'The caller booked an appointment.' : 'The caller hung up without booking.',
      };
      out.push({ callId, body: JSON.stringify({ event: 'call_analyzed', call } satisfies CallWebhookBody) });
    }
  return out;
}

/** Send the versions' calls, wait for the worker, and say where to compare them. */
export async function sendVersionCalls(
  db: Db,
  agentId: string,
  run: string,
  send: (body: string) => Promise<string>,
): Promise<boolean> {
  const calls = versionCalls(agentId, run);
  console.log(
    `\nagent versions: ${CALLS_PER_VERSION} calls of ${agentId} v41 (last week) and ${CALLS_PER_VERSION} of v42 (last 3 days)`,
  );
  const answers = new Map<string, number>();
  for (const c of calls) {
    const status = (await send(c.body)).split(' ')[0]!;
    answers.set(status, (answers.get(status) ?? 0) + 1);
  }
  console.log(`  POST call_analyzed × ${calls.length} -> ${[...answers].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
  const ids = calls.map((c) => c.callId);
  const settled =
    (await waitUntil(async () => ((await countPendingEventsOfCalls(db, ids)) === 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
    })) ?? false;
  console.log(
    settled
      ? `  compare them: make stats ARGS="--agents", or the console's /console/agents/${agentId}`
      : '  some of them are still pending after 30 s: is the worker running?',
  );
  return settled;
}
