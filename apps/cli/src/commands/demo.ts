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

function scenarios(run: string): { title: string; callId: string; deliveries: Delivery[] }[] {
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
  const key = config.retell.webhookKeys[0]!;
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-demo' });
  try {
    await upsertAgent(db, { agentId: DEMO_AGENT, companyId: 1, name: 'callsync demo agent' });
    const run = Date.now().toString(36);
    const all = scenarios(run);
    console.log(`Sending to ${url}, signed with retell-sdk\n`);
    for (const s of all) {
      console.log(`${s.title}: ${s.callId}`);
      for (const d of s.deliveries) {
        const body = sampleWebhookBody(d.call, d.event);
        let res: Response;
        try {
          res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, key) },
            body,
          });
        } catch (err) {
          console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
          return 1;
        }
        console.log(`  POST ${d.label.padEnd(26)} -> ${res.status} ${await res.text()}`);
      }
    }
    // A call that only ever gets call_started: the reconciliation pass closes it.
    const stale = {
      callId: `demo_stale_${run}`,
      agentId: DEMO_AGENT,
      startMs: Date.now() - (config.reconcile.staleAfterMinutes + 5) * 60_000,
    };
    const fake = await isFakeRetell(config.retell.apiBaseUrl);
    if (fake) {
      console.log(`only call_started, then silence (closed by reconciliation): ${stale.callId}`);
      const body = sampleWebhookBody(stale, 'call_started');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, key) },
        body,
      });
      console.log(`  POST ${'call_started'.padEnd(26)} -> ${res.status} ${await res.text()}`);
      // What Retell's get-call will say about it.
      await fetch(`${config.retell.apiBaseUrl}/__fake/calls/${stale.callId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sampleCall(stale, 'call_ended')),
      });
    }
    const ids = [...all.map((s) => s.callId), ...(fake ? [stale.callId] : [])];
    console.log('\nwaiting for the worker...');
    const settled = await waitUntilSettled(db, ids, 30_000);

    console.log('\nretell_call_sessions');
    const sessions = [];
    for (const id of ids) {
      const s = await findCallSession(db, id);
      if (s)
        sessions.push({
          call_id: s.call_id,
          call_status: s.call_status,
          company_id: s.company_id,
          from_number: s.from_number,
          caller_anonymous: s.caller_anonymous,
          duration_ms: s.duration_ms,
          disconnection_reason: s.disconnection_reason,
          analyzed: s.analysis !== null,
        });
    }
    console.table(sessions);
    console.log('webhook_events');
    const events = [];
    for (const id of ids) {
      for (const e of await findWebhookEvents(db, id)) {
        events.push({
          id: e.id,
          call_id: e.event_id,
          event_type: e.event_type,
          status: e.status,
          delivery_count: e.delivery_count,
          attempts: e.attempts,
          error: e.error,
        });
      }
    }
    console.table(events);
    if (!settled) {
      console.error('some events are still pending after 30 s: is the worker running?');
      return 1;
    }
    if (fake) {
      console.log(
        `${stale.callId} stays in_progress until reconciliation asks the (fake) Retell API about it:\n` +
          `within RECONCILE_EVERY_MINUTES (${config.reconcile.everyMinutes} min) while \`make up\` runs, or now with \`make reconcile\`.\n` +
          `  psql "${config.database.url}" -c "select call_id, call_status, ended_at, disconnection_reason from retell_call_sessions where call_id = '${stale.callId}'"`,
      );
    } else {
      console.log('(RETELL_API_BASE_URL is the real Retell API, so the reconciliation scenario was skipped.)');
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
