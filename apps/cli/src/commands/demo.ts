import { hostname } from 'node:os';
import { sign } from 'retell-sdk';
import type { Config } from '@callsync/config';
import {
  defaultAuditGraceMinutes,
  defaultHandlers,
  runAudit,
  runReconcilePass,
  type CallTransfer,
} from '@callsync/domain';
import { createForwardQueue, createRedisConnection, ensureForwardJobs } from '@callsync/queue';
import { waitUntil } from '@callsync/runtime';
import { DemoForwarding } from '../demo-forwarding';
import { auditLine } from './audit';
import { sendVersionCalls } from '../demo-versions';
import { retellClient } from '../retell-client';
import { keyringOf } from '../secret-key';
import {
  countPendingEventsOfCalls,
  createDb,
  findCallSession,
  findChatSession,
  findCompanyIdForAgent,
  findWebhookEvents,
  type Db,
} from '@callsync/db';
import {
  sampleCall,
  sampleChatBody,
  sampleTranscriptUpdateBody,
  sampleTransferBody,
  sampleWebhookBody,
  type InboundCallRequest,
  type SampleCallOptions,
  type SampleEvent,
} from '@callsync/retell';

interface Delivery {
  label: string;
  body: string;
}

const deliveries = (call: SampleCallOptions, events: readonly SampleEvent[]): Delivery[] =>
  events.map((event) => ({ label: event, body: sampleWebhookBody(call, event) }));

const DEMO_AGENT = 'agent_demo_callsync';
/** Blocked for Praxis Dr. Weber in examples/tenants.yaml. */
const BLOCKED_CALLER = '+4915112345678';

interface Scenario {
  title: string;
  /** The call's id, or the chat's for a chat. */
  callId: string;
  chat?: boolean;
  deliveries: Delivery[];
}

function scenarios(run: string): Scenario[] {
  const full = { callId: `demo_full_${run}`, agentId: DEMO_AGENT };
  const anon = { callId: `demo_anonymous_${run}`, agentId: DEMO_AGENT, fromNumber: 'anonymous' };
  const failed = {
    callId: `demo_dial_failed_${run}`,
    agentId: DEMO_AGENT,
    direction: 'outbound' as const,
    disconnectionReason: 'dial_failed' as const,
  };
  const redelivered = { callId: `demo_redelivered_${run}`, agentId: 'agent_not_registered' };
  const transferred = {
    callId: `demo_transferred_${run}`,
    agentId: DEMO_AGENT,
    disconnectionReason: 'call_transfer' as const,
  };
  // As Retell sends it: the destination an object with number and extension, the option camelCase.
  const practice = {
    destination: { number: '+493012345678', extension: '21' },
    option: { type: 'warm_transfer' as const, showTransfereeAsCaller: true, agentDetectionTimeoutMs: 15000 },
    turns: 5,
  };
  const rerun = { callId: `demo_rerun_${run}`, agentId: DEMO_AGENT };
  const rerunAnalysis = JSON.parse(sampleWebhookBody(rerun, 'call_analyzed')) as {
    call: { call_analysis: Record<string, unknown> };
  };
  rerunAnalysis.call.call_analysis = {
    ...rerunAnalysis.call.call_analysis,
    call_summary: 'Re-run analysis: the caller booked Thursday 10:00 and wants an SMS reminder.',
    custom_analysis_data: { reminder: 'sms' },
  };
  const chat = { chatId: `demo_chat_${run}`, agentId: DEMO_AGENT };
  return [
    {
      title: 'a full call',
      callId: full.callId,
      deliveries: deliveries(full, ['call_started', 'call_ended', 'call_analyzed']),
    },
    {
      title: 'an anonymous caller',
      callId: anon.callId,
      deliveries: deliveries(anon, ['call_started', 'call_ended']),
    },
    {
      title: 'a dial that failed (no call_started)',
      callId: failed.callId,
      deliveries: deliveries(failed, ['call_ended', 'call_analyzed']),
    },
    {
      title: 'a redelivered call_ended, sent before call_started (unknown agent)',
      callId: redelivered.callId,
      deliveries: [
        ...deliveries(redelivered, ['call_ended']),
        { label: 'call_ended (Retell retry)', body: sampleWebhookBody(redelivered, 'call_ended') },
        { label: 'call_started (late)', body: sampleWebhookBody(redelivered, 'call_started') },
      ],
    },
    {
      title: 'a call with a live transcript, transferred to the practice',
      callId: transferred.callId,
      deliveries: [
        ...deliveries(transferred, ['call_started']),
        { label: 'transcript_updated (2 turns)', body: sampleTranscriptUpdateBody(transferred, 2) },
        { label: 'transcript_updated (4 turns)', body: sampleTranscriptUpdateBody(transferred, 4) },
        { label: 'transfer_started', body: sampleTransferBody(transferred, 'transfer_started', practice) },
        { label: 'transfer_bridged', body: sampleTransferBody(transferred, 'transfer_bridged', practice) },
        ...deliveries(transferred, ['call_ended', 'call_analyzed']),
      ],
    },
    {
      title: 'a re-run analysis (PUT /rerun-call-analysis)',
      callId: rerun.callId,
      deliveries: [
        ...deliveries(rerun, ['call_ended', 'call_analyzed']),
        { label: 'call_analyzed (re-run)', body: JSON.stringify(rerunAnalysis) },
      ],
    },
    {
      title: 'an SMS chat with a chat agent',
      callId: chat.chatId,
      chat: true,
      deliveries: (['chat_started', 'chat_ended', 'chat_analyzed'] as const).map((event) => ({
        label: event,
        body: sampleChatBody(chat, event),
      })),
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
    const run = Date.now().toString(36);
    const all = scenarios(run);
    console.log(`Sending to ${url}, signed with retell-sdk\n`);
    // Applied before the forwarding destination exists, so the demo forwards only its scenarios' events.
    let compared: boolean;
    try {
      compared = await sendVersionCalls(db, DEMO_AGENT, run, send);
    } catch (err) {
      console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
      return 1;
    }
    const forwarding = await DemoForwarding.start(db, keyringOf(config));
    try {
      try {
        await sendScenarios(all, send);
      } catch (err) {
        console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
        return 1;
      }
      return (await afterSending(config, db, url, run, all, send, forwarding)) || (compared ? 0 : 1);
    } finally {
      await forwarding.stop();
    }
  } finally {
    await db.destroy();
  }
}

async function afterSending(
  config: Config,
  db: Db,
  url: string,
  run: string,
  all: Scenario[],
  send: (body: string) => Promise<string>,
  forwarding: DemoForwarding,
): Promise<number> {
  // A call that only ever gets call_started: the reconciliation pass closes it (with the fake Retell).
  const stale = (await isFakeRetell(config.retell.apiBaseUrl)) ? await sendStaleCall(config, run, send) : undefined;
  const ids = [...all.filter((s) => !s.chat).map((s) => s.callId), ...(stale ? [stale] : [])];
  const chatIds = all.filter((s) => s.chat).map((s) => s.callId);
  console.log('\nwaiting for the worker...');
  const settled = await waitUntilSettled(db, [...ids, ...chatIds], 30_000);
  if (stale) {
    await reconcileNow(config, db, stale);
    ids.push(lostCallOf(stale));
  } else console.log('(RETELL_API_BASE_URL is the real Retell API, so the reconciliation scenario was skipped.)');
  await printResults(db, ids, chatIds);
  if (!settled) {
    console.error('some events are still pending after 30 s: is the worker running?');
    return 1;
  }
  const forwarded = await forwarding.report([...ids, ...chatIds]);
  await duringTheCall(url, config.retell.webhookKeys[0]!, run, send);
  if ((await findCompanyIdForAgent(db, DEMO_AGENT)) === null)
    console.log(
      `\ncompany_id is empty: nothing maps ${DEMO_AGENT} to a company yet. ` +
        `make tenants ARGS="apply examples/tenants.yaml" maps it; the sessions above get their company at once.`,
    );
  return forwarded ? 0 : 1;
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
      console.log(`  POST ${d.label.padEnd(28)} -> ${await send(d.body)}`);
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
  console.log(`  POST ${'call_started'.padEnd(28)} -> ${await send(sampleWebhookBody(stale, 'call_started'))}`);
  // What Retell's get-call will say about it.
  await fetch(`${config.retell.apiBaseUrl}/__fake/calls/${stale.callId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleCall(stale, 'call_ended')),
  });
  // And a call whose webhooks never arrived at all: only Retell knows it. Reconciliation discovers it.
  const lost = { callId: lostCallOf(stale.callId), agentId: DEMO_AGENT, startMs: Date.now() - 2 * 60_000 };
  console.log(`no webhook at all, only at Retell (found by reconciliation's discovery): ${lost.callId}`);
  await fetch(`${config.retell.apiBaseUrl}/__fake/calls/${lost.callId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleCall(lost, 'call_analyzed')),
  });
  return stale.callId;
}

/**
 * What Retell asks while a call runs: an inbound webhook for a returning caller (the demo's earlier
 * calls came from the same number), then a function call for a new call, sent before its call_started
 * has even reached callsync: the context comes from the request's call object and the tenant mapping.
 */
async function duringTheCall(
  webhookUrl: string,
  key: string,
  run: string,
  send: (body: string) => Promise<string>,
): Promise<void> {
  const base = new URL(webhookUrl).origin;
  const signedPost = async (path: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const started = performance.now();
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, key) },
      body,
    });
    return { status: res.status, text: await res.text(), ms: performance.now() - started };
  };
  console.log('\nduring the call');
  const inbound = await signedPost('/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: { from_number: '+491604366218', to_number: '+493033081738' },
  });
  console.log(`  POST /api/retell/inbound (a returning caller) -> ${inbound.status} in ${inbound.ms.toFixed(0)} ms`);
  console.log(`    ${inbound.text}`);
  // examples/tenants.yaml blocks this caller for the practice its agent belongs to.
  const blocked = await signedPost('/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: {
      agent_id: DEMO_AGENT,
      from_number: BLOCKED_CALLER,
      to_number: '+493033081738',
      call_id: `demo_blocked_${run}`,
    },
  } satisfies InboundCallRequest);
  console.log(`  POST /api/retell/inbound (a blocked caller) -> ${blocked.status} in ${blocked.ms.toFixed(0)} ms`);
  console.log(`    ${blocked.text}`);
  if (!blocked.text.includes('"reject":true'))
    console.log(
      `    (not rejected: nothing blocks ${BLOCKED_CALLER} for ${DEMO_AGENT}'s company; make tenants ARGS="apply examples/tenants.yaml" does)`,
    );
  const live = { callId: `demo_live_${run}`, agentId: DEMO_AGENT, startMs: Date.now() - 5_000 };
  const fn = await signedPost('/api/retell/functions/get_call_context', {
    name: 'get_call_context',
    args: {},
    call: sampleCall(live, 'call_started'),
  });
  console.log(
    `  POST /api/retell/functions/get_call_context (${live.callId}, before its call_started arrived) -> ${fn.status} in ${fn.ms.toFixed(0)} ms`,
  );
  console.log(`    ${fn.text}`);
  console.log(`  POST ${'call_started'.padEnd(28)} -> ${await send(sampleWebhookBody(live, 'call_started'))}`);
}

/** A session's transfers as "number ext N: outcome", in order. */
function describeTransfers(transfers: unknown): string {
  if (!Array.isArray(transfers) || transfers.length === 0) return '';
  return (transfers as CallTransfer[])
    .map((t) => `${t.destination ?? '?'}${t.extension ? ` ext ${t.extension}` : ''}: ${t.outcome}`)
    .join('; ');
}

async function printResults(db: Db, ids: string[], chatIds: string[]): Promise<void> {
  console.log('\nretell_call_sessions');
  const sessions = [];
  for (const id of ids) {
    const s = await findCallSession(db, id);
    if (!s) continue;
    const { call_id, call_status, company_id, from_number, caller_withheld, duration_ms, disconnection_reason } = s;
    sessions.push({
      call_id,
      call_status,
      company_id,
      from_number,
      caller_withheld,
      duration_ms,
      disconnection_reason,
      transfers: describeTransfers(s.transfers),
      call_successful: s.call_successful,
      call_summary: s.call_summary ? `${s.call_summary.slice(0, 40)}${s.call_summary.length > 40 ? '…' : ''}` : null,
    });
  }
  console.table(sessions);
  console.log('retell_chat_sessions');
  const chats = [];
  for (const id of chatIds) {
    const c = await findChatSession(db, id);
    if (c)
      chats.push({
        chat_id: c.chat_id,
        chat_type: c.chat_type,
        chat_status: c.chat_status,
        chat_successful: c.chat_successful,
        user_sentiment: c.user_sentiment,
      });
  }
  console.table(chats);
  console.log('webhook_events');
  const events = [];
  for (const [id, chat] of [...ids.map((i) => [i, false] as const), ...chatIds.map((i) => [i, true] as const)]) {
    for (const e of await findWebhookEvents(db, id, { chat })) {
      const { event_type, status, delivery_count, attempts, error } = e;
      events.push({ id: e.id, subject: e.call_id ?? e.chat_id, event_type, status, delivery_count, attempts, error });
    }
  }
  console.table(events);
}

const lostCallOf = (stale: string) => stale.replace('demo_stale_', 'demo_lost_');

/**
 * What reconciliation makes of the stale and the lost call, now rather than within
 * RECONCILE_EVERY_MINUTES: one pass, as `make reconcile` runs it, then both sessions. The lost call
 * was only ever listed (list-calls has no transcripts); get-call gave it its transcript.
 */
async function reconcileNow(config: Config, db: Db, stale: string): Promise<void> {
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
