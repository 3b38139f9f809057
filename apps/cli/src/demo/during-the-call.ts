import { sampleCall, sampleWebhookBody, type InboundCallRequest } from '@callsync/retell';
import { BLOCKED_CALLER, DEMO_AGENT } from './scenarios';
import { signedPost, type Send } from './signed-post';

/**
 * What Retell asks while a call runs: an inbound webhook for a returning caller (the demo's earlier
 * calls came from the same number), then a function call for a new call, sent before its call_started
 * has even reached callsync: the context comes from the request's call object and the tenant mapping.
 */
export async function duringTheCall(webhookUrl: string, key: string, run: string, send: Send): Promise<void> {
  const base = new URL(webhookUrl).origin;
  const post = (path: string, payload: unknown) => signedPost(`${base}${path}`, JSON.stringify(payload), key);
  console.log('\nduring the call');
  const inbound = await post('/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: { from_number: '+491604366218', to_number: '+493033081738' },
  });
  console.log(`  POST /api/retell/inbound (a returning caller) -> ${inbound.status} in ${inbound.ms.toFixed(0)} ms`);
  console.log(`    ${inbound.text}`);
  // examples/tenants.yaml blocks this caller for the practice its agent belongs to.
  const blocked = await post('/api/retell/inbound', {
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
  const fn = await post('/api/retell/functions/get_call_context', {
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
