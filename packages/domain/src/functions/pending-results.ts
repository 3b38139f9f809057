import { type Db } from '@callsync/db';
import { takePendingResults, type PendingResult } from '@callsync/db/live';
import type { Logger } from '@callsync/logger';
import type { CallsyncFunction } from './function';
import { DEFAULT_TIMEOUT_MS, sleep, within, type FunctionAnswer, type RunningInvocations } from './invocation';

/*
 * Results finished in the background after the agent heard a function's pending message: handed to
 * the function's next call in the call (same args), or to get_pending_result. Running ones are waited
 * on here when they run in this process, else polled in Postgres.
 */

/**
 * Hand over a result a pending message promised (marked delivered: once). 'running' when it is
 * still running past `answerBy`; undefined when there is none (or it failed: then the call runs
 * afresh).
 */
export async function deliverPending(
  db: Db,
  running: RunningInvocations,
  logger: Logger,
  fn: CallsyncFunction<unknown>,
  q: { callId: string; argsJson: string; answerBy: number },
): Promise<FunctionAnswer | 'running' | undefined> {
  for (;;) {
    const { taken, running: stillRunning } = await takePendingResults(db, {
      callId: q.callId,
      name: fn.name,
      argsJson: q.argsJson,
    });
    const ok = taken.filter((t) => t.status === 'ok' || t.status === 'bad_args').pop();
    if (ok) {
      logger.info('function answered with the result its pending message promised', {
        function: fn.name,
        call_id: q.callId,
        function_call_id: ok.id,
      });
      return { status: 200, body: ok.result ?? '', outcome: 'delivered' };
    }
    // A row still running long past its timeout belongs to a process that stopped: nothing to wait for.
    const alive = stillRunning.filter(
      (r) =>
        running.has(r.id) || Date.now() - new Date(r.created_at).getTime() <= 2 * (fn.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    );
    if (!alive.length) return undefined;
    const left = q.answerBy - Date.now();
    if (left <= 0) return 'running';
    await waitForAny(running, alive, left);
  }
}

/** The call's pending results for get_pending_result, waiting up to `answerBy` for running ones. */
export async function collectPendingResults(
  db: Db,
  running: RunningInvocations,
  q: { callId: string | null; name: string | undefined; answerBy: number },
): Promise<{ taken: PendingResult[]; running: string[] }> {
  if (!q.callId) return { taken: [], running: [] };
  const taken: PendingResult[] = [];
  for (;;) {
    const now = await takePendingResults(db, { callId: q.callId, name: q.name });
    taken.push(...now.taken);
    const left = q.answerBy - Date.now();
    if (!now.running.length || left <= 0) return { taken, running: now.running.map((r) => r.name) };
    await waitForAny(running, now.running, left);
  }
}

/** Until one of `rows` running here ends, or `left` ms; a short poll when none runs here. */
async function waitForAny(running: RunningInvocations, rows: { id: string }[], left: number): Promise<void> {
  const local = rows.map((r) => running.get(r.id)).filter((p) => p !== undefined);
  if (local.length) await within(Promise.race(local), left);
  else await sleep(Math.min(25, left));
}
