import { sign } from 'retell-sdk';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import { agentVersionStats } from '@callsync/db/ops';
import { FakeRetell } from '@callsync/fake-retell';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import {
  assertBuilt,
  CLI,
  DASHBOARD,
  deleteQueueKeys,
  freePort,
  INGRESS,
  run,
  until,
  WORKER,
} from './support/processes';

let t: TestDatabase;
const prefix = `{callsync-e2e-${process.pid}}`;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDatabase();
});
afterAll(async () => {
  await deleteQueueKeys(serviceUrls().redisUrl, prefix);
  await t.drop();
});

/** The built ingress and worker as OS processes, as `make up` and the containers run them. */
describe('ingress and worker processes', () => {
  it('take a signed delivery from HTTP to a processed row, log JSON without phone numbers or secrets, and stop cleanly on SIGTERM', async () => {
    const port = await freePort();
    const workerPort = await freePort();
    const ingressMetricsPort = await freePort();
    const env = {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: `${TEST_API_KEY},key_rotated_out`,
      PORT: String(port),
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: String(workerPort),
      INGRESS_METRICS_PORT: String(ingressMetricsPort),
      SHUTDOWN_DRAIN_MS: '0',
      // The sample call ended in 2025: the worker's first retention run (at start-up) would remove its
      // numbers under the default 90 days before this test reads them.
      SESSION_PII_RETENTION_DAYS: '36500',
    };
    const ingress = run(INGRESS, env);
    const worker = run(WORKER, env);
    try {
      const url = `http://127.0.0.1:${port}`;
      await until('ingress /readyz', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
      const callId = newCallId('e2e');
      for (const event of ['call_started', 'call_ended'] as const) {
        const payload = body(event, { callId });
        const res = await fetch(`${url}/api/webhooks/retell`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
          body: payload,
        });
        expect(res.status).toBe(200);
      }
      const session = await until('the session to end', async () => {
        const s = await findCallSession(t.db, callId);
        return s?.call_status === 'ended' ? s : undefined;
      });
      expect(session).toMatchObject({ from_number: '+491604366218', disconnection_reason: 'user_hangup' });
      const statuses = await t.db
        .selectFrom('webhook_events')
        .select('status')
        .where('event_id', '=', callId)
        .execute();
      expect(statuses.map((s) => s.status)).toEqual(['processed', 'processed']);

      // Both processes answer /readyz and /metrics, with the series moving.
      const w = `http://127.0.0.1:${workerPort}`;
      expect(await (await fetch(`${w}/readyz`)).json()).toEqual({ postgres: 'ok', redis: 'ok' });
      const workerMetrics = await (await fetch(`${w}/metrics`)).text();
      expect(workerMetrics).toMatch(
        /^callsync_events_handled_total\{event="call_ended",outcome="processed",service="worker"\} 1$/m,
      );
      expect(workerMetrics).toMatch(/^callsync_process_resident_memory_bytes\{service="worker"\} \d+/m);
      // The ingress serves /metrics on a listener of its own; the public webhook port does not expose it.
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
      const ingressMetrics = await (await fetch(`http://127.0.0.1:${ingressMetricsPort}/metrics`)).text();
      expect(ingressMetrics).toMatch(
        /^callsync_webhook_deliveries_total\{event="call_started",outcome="accepted",service="ingress"\} 1$/m,
      );
      expect(ingressMetrics).toMatch(
        /^callsync_queue_jobs\{queue="webhooks",state="completed",service="ingress"\} 2$/m,
      );

      ingress.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      expect(await ingress.exited).toBe(0);
      expect(await worker.exited).toBe(0);

      const logs = ingress.output() + worker.output();
      const lines = logs.trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(logs).toContain(callId);
      expect(logs).not.toContain('+491604366218');
      expect(logs).not.toContain(TEST_API_KEY);
      expect(logs).not.toMatch(/v=\d{13},d=/);
    } finally {
      ingress.child.kill('SIGKILL');
      worker.child.kill('SIGKILL');
    }
  });

  it('make demo: every scenario (chat, transfer, re-run analysis, blocked caller, discovered call) ends applied', async () => {
    // The fake Retell API, as make up starts it without a key: the demo's reconciliation scenario runs.
    const fake = new FakeRetell({ apiKeys: [TEST_API_KEY] });
    const fakeUrl = await fake.start();
    const env = {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      QUEUE_PREFIX: prefix,
      RETELL_API_KEY: TEST_API_KEY,
      RETELL_API_BASE_URL: fakeUrl,
      PORT: String(await freePort()),
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: String(await freePort()),
      INGRESS_METRICS_PORT: String(await freePort()),
      SHUTDOWN_DRAIN_MS: '0',
    };
    const ingress = run(INGRESS, env);
    const worker = run(WORKER, env);
    try {
      await until('ingress /readyz', async () =>
        (await fetch(`http://127.0.0.1:${env.PORT}/readyz`)).ok ? true : undefined,
      );
      // The example tenants map the demo's agent to Praxis Dr. Weber and block one caller.
      const tenants = run(CLI, env, ['tenants', 'apply', 'examples/tenants.yaml']);
      expect({ code: await tenants.exited, output: tenants.output() }).toMatchObject({ code: 0 });
      const demo = run(CLI, env, ['demo']);
      expect({ code: await demo.exited, output: demo.output() }).toMatchObject({ code: 0 });
      const out = demo.output();
      expect(out).not.toMatch(/-> [45]\d\d /);
      const id = (prefix: string) => out.match(new RegExp(`(${prefix}_[a-z0-9]+)`))![1]!;
      expect(await findChatSession(t.db, id('demo_chat'))).toMatchObject({
        chat_status: 'ended',
        chat_successful: true,
      });
      const transferred = await findCallSession(t.db, id('demo_transferred'));
      expect(transferred).toMatchObject({ call_status: 'ended', disconnection_reason: 'call_transfer' });
      expect(transferred!.transfers).toEqual([
        expect.objectContaining({ destination: '+493012345678', extension: '21', outcome: 'bridged' }),
      ]);
      expect(out).toContain('+493012345678 ext 21: bridged');
      // A blocked caller is rejected, not connected to the number's agent.
      expect(out).toMatch(/inbound \(a blocked caller\) -> 200 .*\n\s+\{"call_inbound":\{"reject":true\}\}/);
      // The call only Retell knew: listed (no transcript), completed by get-call.
      const lost = await findCallSession(t.db, id('demo_lost'));
      expect(lost).toMatchObject({ call_status: 'ended', transcript_final: true });
      expect(lost!.transcript).toMatch(/^Agent: Guten Tag/);
      expect(out).toMatch(/demo_lost_\w+ \(never a webhook.*\): ended, transcript "Agent: Guten Tag/);
      // make audit names the lost call as a gap until reconciliation has found it, then complete.
      expect(out).toMatch(/audit before reconciliation .*\n\s+demo_lost_\w+: gap, no_session/);
      expect(out).toMatch(/audit after reconciliation .*: listed \d+, complete \d+.*\n\s+demo_lost_\w+: complete/);
      expect(await findCallSession(t.db, id('demo_stale'))).toMatchObject({ call_status: 'ended' });
      expect((await findCallSession(t.db, id('demo_rerun')))!.call_summary).toMatch(/^Re-run analysis/);
      // During the call: an inbound answer that remembers the caller, a function with the call's context.
      expect(out).toMatch(/POST \/api\/retell\/inbound \(a returning caller\) -> 200/);
      expect(out).toContain('"caller_known":"true"');
      expect(out).toMatch(/get_call_context \(demo_live_\w+, before its call_started arrived\) -> 200/);
      expect(out).toMatch(/This is an inbound call .* with \+491604366218\. .*The caller has called \d+ times before/);
      const statuses = await t.db
        .selectFrom('webhook_events')
        .select((eb) => ['status', eb.fn.countAll<string>().as('n')])
        .groupBy('status')
        .execute();
      expect(statuses).toEqual([{ status: 'processed', n: expect.any(String) }]);
      // Forwarding: the worker process sent every call_ended, call_analyzed and chat_analyzed to the
      // demo's receiver, which verified each signature.
      expect(out).toContain('forwarded to the local receiver (verified with standardwebhooks)');
      const forwarded = await t.db.selectFrom('forward_deliveries').selectAll().execute();
      // The demo's own events (an earlier test in this file stored a call before any destination existed).
      const applied = (
        await t.db
          .selectFrom('webhook_events')
          .select(['id', 'call_id', 'chat_id'])
          .where('event_type', 'in', ['call_ended', 'call_analyzed', 'chat_analyzed'])
          .execute()
      ).filter((e) => /^demo_(?!v4[12]_)/.test(e.call_id ?? e.chat_id ?? ''));
      expect(applied.filter((e) => !forwarded.some((d) => d.webhook_event_id === e.id))).toEqual([]);
      expect(forwarded.length).toBe(applied.length);
      expect(forwarded.every((d) => d.status === 'delivered')).toBe(true);
      expect(out.match(/\bverified\b/g)!.length).toBeGreaterThanOrEqual(forwarded.length);
      expect(out).not.toContain('NOT verified');
      // Agent versions: the demo agent's v41 and v42 side by side (sent before the forwarding destination).
      expect(out).toContain('agent versions: 40 calls of agent_demo_callsync v41 (last week) and 40 of v42');
      const versions = await agentVersionStats(t.db, { agentId: 'agent_demo_callsync' });
      expect(versions.map((v) => v.agent_version)).toEqual([42, 41]);
      expect(versions[1]).toMatchObject({ calls: 40, analyzed: 40, successful: 32, latency_calls: 40 });
      expect(versions[0]!.calls).toBeGreaterThan(40);
    } finally {
      ingress.child.kill('SIGKILL');
      worker.child.kill('SIGKILL');
      await fake.stop();
    }
  });

  it('refuse to start on a bad variable, naming it (and the dashboard without a password in production)', async () => {
    const p = run(INGRESS, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      RETELL_API_KEY: TEST_API_KEY,
      PORT: 'eighty',
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/Invalid configuration:\n\s+- PORT: /);
    const w = run(WORKER, { REDIS_URL: serviceUrls().redisUrl, RETELL_API_KEY: TEST_API_KEY });
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain('DATABASE_URL is required but not set');
    const d = run(DASHBOARD, {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      RETELL_API_KEY: TEST_API_KEY,
      NODE_ENV: 'production',
    });
    expect(await d.exited).toBe(1);
    expect(d.output()).toMatch(/^DASHBOARD_PASSWORD is required outside development/m);
  });
});
