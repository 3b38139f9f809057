import { sign } from 'retell-sdk';
import type { Config } from '@callsync/config';
import { waitUntil } from '@callsync/runtime';
import {
  countPendingEventsOfCalls,
  createDb,
  findCallSession,
  findWebhookEvents,
  upsertAgent,
  type Db,
} from '@callsync/db';
import { sampleCall, sampleWebhookBody, type SampleCallOptions, type SampleEvent } from '@callsync/retell';

interface Delivery {
  label: string;
  call: SampleCallOptions;
  event: SampleEvent;
}

const DEMO_AGENT = 'agent_demo_callsync';

interface Scenario {
  title: string;
  callId: string;
  deliveries: Delivery[];
}

function scenarios(run: string): Scenario[] {
  const full = { callId: `demo_full_${run}`, agentId: DEMO_AGENT };
  const anon = { callId: `demo_anonymous_${run}`, agentId: DEMO_AGENT, fromNumber: 'anonymous' };
  const failed = {
    callId: `demo_dial_failed_${run}`,
    agentId: DEMO_AGENT,
    direction: 'outbound' as const,
    disconnectionReason: 'dial_failed',
  };
  const redelivered = { callId: `demo_redelivered_${run}`, agentId: 'agent_not_registered' };
  return [
    {
      title: 'a full call',
      callId: full.callId,
      deliveries: (['call_started', 'call_ended', 'call_analyzed'] as const).map((event) => ({
        label: event,
        call: full,
        event,
      })),
    },
    {
      title: 'an anonymous caller',
      callId: anon.callId,
      deliveries: (['call_started', 'call_ended'] as const).map((event) => ({ label: event, call: anon, event })),
    },
    {
      title: 'a dial that failed (no call_started)',
      callId: failed.callId,
      deliveries: (['call_ended', 'call_analyzed'] as const).map((event) => ({ label: event, call: failed, event })),
    },
    {
      title: 'a redelivered call_ended, sent before call_started (unknown agent)',
      callId: redelivered.callId,
      deliveries: [
        { label: 'call_ended', call: redelivered, event: 'call_ended' },
        { label: 'call_ended (Retell retry)', call: redelivered, event: 'call_ended' },
        { label: 'call_started (late)', call: redelivered, event: 'call_started' },
      ],
    },
  ];
}

/** True when RETELL_API_BASE_URL is the fake Retell API (local runs without an account). */
async function isFakeRetell(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/__fake/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitUntilSettled(db: Db, callIds: string[], timeoutMs: number): Promise<boolean> {
  const settled = await waitUntil(
    async () => ((await countPendingEventsOfCalls(db, callIds)) === 0 ? true : undefined),
    {
      timeoutMs,
      intervalMs: 250,
    },
  );
  return settled ?? false;
}

/** `make demo`: send signed, realistic deliveries to the running ingress and show what became of them. */
export async function demoCommand(config: Config, args: string[]): Promise<number> {
  const urlArg = args.find((a) => a.startsWith('--url='));
  const url = urlArg ? urlArg.slice('--url='.length) : `http://127.0.0.1:${config.ingress.port}/api/webhooks/retell`;
  const send = (body: string) => post(url, body, config.retell.webhookKeys[0]!);
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-demo' });
  try {
    await upsertAgent(db, { agentId: DEMO_AGENT, companyId: 1, name: 'callsync demo agent' });
    const run = Date.now().toString(36);
    const all = scenarios(run);
    console.log(`Sending to ${url}, signed with retell-sdk\n`);
    try {
      await sendScenarios(all, send);
    } catch (err) {
      console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
      return 1;
    }
    // A call that only ever gets call_started: the reconciliation pass closes it (with the fake Retell).
    const stale = (await isFakeRetell(config.retell.apiBaseUrl)) ? await sendStaleCall(config, run, send) : undefined;
    const ids = [...all.map((s) => s.callId), ...(stale ? [stale] : [])];
    console.log('\nwaiting for the worker...');
    const settled = await waitUntilSettled(db, ids, 30_000);
    await printResults(db, ids);
    if (!settled) {
      console.error('some events are still pending after 30 s: is the worker running?');
      return 1;
    }
    explainStaleCall(config, stale);
    return 0;
  } finally {
    await db.destroy();
  }
}

/** POST a body to the ingress, signed as Retell would; the status and the answer. */
async function post(url: string, body: string, key: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, key) },
    body,
  });
  return `${res.status} ${await res.text()}`;
}

async function sendScenarios(all: Scenario[], send: (body: string) => Promise<string>): Promise<void> {
  for (const s of all) {
    console.log(`${s.title}: ${s.callId}`);
    for (const d of s.deliveries) {
      console.log(`  POST ${d.label.padEnd(26)} -> ${await send(sampleWebhookBody(d.call, d.event))}`);
    }
  }
}

/** Send call_started for a call that started long ago, and tell the fake Retell API how it ended. Its id. */
async function sendStaleCall(config: Config, run: string, send: (body: string) => Promise<string>): Promise<string> {
  const stale = {
    callId: `demo_stale_${run}`,
    agentId: DEMO_AGENT,
    startMs: Date.now() - (config.reconcile.staleAfterMinutes + 5) * 60_000,
  };
  console.log(`only call_started, then silence (closed by reconciliation): ${stale.callId}`);
  console.log(`  POST ${'call_started'.padEnd(26)} -> ${await send(sampleWebhookBody(stale, 'call_started'))}`);
  // What Retell's get-call will say about it.
  await fetch(`${config.retell.apiBaseUrl}/__fake/calls/${stale.callId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleCall(stale, 'call_ended')),
  });
  return stale.callId;
}

async function printResults(db: Db, ids: string[]): Promise<void> {
  console.log('\nretell_call_sessions');
  const sessions = [];
  for (const id of ids) {
    const s = await findCallSession(db, id);
    if (!s) continue;
    const { call_id, call_status, company_id, from_number, caller_withheld, duration_ms, disconnection_reason } = s;
    const analyzed = s.analysis !== null;
    sessions.push({
      call_id,
      call_status,
      company_id,
      from_number,
      caller_withheld,
      duration_ms,
      disconnection_reason,
      analyzed,
    });
  }
  console.table(sessions);
  console.log('webhook_events');
  const events = [];
  for (const id of ids) {
    for (const e of await findWebhookEvents(db, id)) {
      const { event_type, status, delivery_count, attempts, error } = e;
      events.push({ id: e.id, call_id: e.call_id, event_type, status, delivery_count, attempts, error });
    }
  }
  console.table(events);
}

function explainStaleCall(config: Config, stale: string | undefined): void {
  if (!stale) {
    console.log('(RETELL_API_BASE_URL is the real Retell API, so the reconciliation scenario was skipped.)');
    return;
  }
  console.log(
    `${stale} stays in_progress until reconciliation asks the (fake) Retell API about it:\n` +
      `within RECONCILE_EVERY_MINUTES (${config.reconcile.everyMinutes} min) while \`make up\` runs, or now with \`make reconcile\`.\n` +
      `  psql "${config.database.url}" -c "select call_id, call_status, ended_at, disconnection_reason from retell_call_sessions where call_id = '${stale}'"`,
  );
}
