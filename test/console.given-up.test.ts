import request from 'supertest';
import { createDashboardApp } from '@callsync/dashboard';
import { defaultHandlers, runReconcilePass } from '@callsync/domain';
import { sampleCall } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startFakeRetell } from './support/fake-retell';
import { startPipeline, type Pipeline } from './support/pipeline';

/** The console's filter for calls reconciliation gave up on (issue 32): in_progress, no longer polled. */
const t = useTestDatabase();
const AUTH = { user: 'oncall', password: 'correct horse battery staple' };
let p: Pipeline;
let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeEach(async () => {
  await truncateAll(t.db);
  p = await startPipeline(t.db);
  f = await startFakeRetell({ maxRetries: 1, backoffMs: 10 });
});
afterEach(async () => {
  await p.close();
  await f.fake.stop();
});

const get = (path: string) =>
  request(createDashboardApp({ queues: [p.queue], db: t.db, webhookQueue: p.queue, auth: AUTH }))
    .get(path)
    .auth(AUTH.user, AUTH.password);

it('lists only the in_progress calls reconciliation stopped polling under "given up"', async () => {
  const startMs = Date.now() - 60 * 60_000;
  const unknown = newCallId('unknown');
  const live = newCallId('live');
  const ids = [];
  for (const callId of [unknown, live]) ids.push((await p.deliver(body('call_started', { callId, startMs }))).body.id);
  await p.settled(ids);
  // Retell knows one of them (still ongoing) and answers 422 for the other: after maxTries, given up.
  f.fake.setCall(sampleCall({ callId: live, startMs }, 'call_started'));
  await runReconcilePass(
    { db: t.db, retell: { getCall: (id) => f.client.getCall(id) }, handlers: defaultHandlers },
    { trigger: 'manual', runner: 'test', staleAfterMinutes: 5, analysisAfterMinutes: 30, maxTries: 1 },
  );

  const givenUp = await get('/console/calls?status=given_up');
  expect(givenUp.status).toBe(200);
  expect(givenUp.text).toContain(unknown);
  expect(givenUp.text).not.toContain(live);
  expect(givenUp.text).toContain('<option value="given_up" selected>');
  const inProgress = await get('/console/calls?status=in_progress');
  expect(inProgress.text).toContain(unknown);
  expect(inProgress.text).toContain(live);
});
