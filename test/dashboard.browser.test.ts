import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createDashboardApp } from '@callsync/dashboard';
import { findCallSession } from '@callsync/db/sessions';
import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { webhookJobId } from '@callsync/queue';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';
import { DASHBOARD_AUTH as AUTH, launchChromium, SCREENSHOTS, serveOnLoopback } from './support/browser';

/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core): log in, find a
 * failed job with its error, retry it once its cause is gone, and watch it complete.
 */
const OUTPUT = SCREENSHOTS;

let t: TestDatabase;
let p: Pipeline;
let server: Server;
let base: string;
let browser: Browser;
let crmDown = true;

beforeAll(async () => {
  t = await createTestDatabase();
  // The CRM the handler talks to is down until the test says otherwise.
  const flaky: EventHandler = async (db, event) => {
    if (crmDown) throw new Error('CRM unreachable: connect ETIMEDOUT crm.example.internal');
    await defaultHandlers.call_started!(db, event);
  };
  p = await startPipeline(t.db, { handlers: { ...defaultHandlers, call_started: flaky }, attempts: 1 });
  const app = createDashboardApp({ queues: [p.queue], auth: AUTH });
  ({ server, base } = await serveOnLoopback(app));
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await p?.close();
  await t?.drop();
});

describe('dashboard (Bull Board behind basic auth)', () => {
  it('answers 401 without credentials, or with wrong ones', async () => {
    const anonymous = await fetch(`${base}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="callsync"/);
    const wrong = await fetch(`${base}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from('oncall:guess').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const api = await fetch(`${base}/admin/queues/api/queues`);
    expect(api.status).toBe(401);
  });

  it('shows a failed job with its error, and retrying it completes the job once the cause is gone', async () => {
    const callId = newCallId('board');
    const res = await p.deliver(body('call_started', { callId }));
    const [row] = await p.settled([res.body.id]);
    expect(row?.status).toBe('failed');

    const context = await browser.newContext({
      httpCredentials: { username: AUTH.user, password: AUTH.password },
      viewport: { width: 1400, height: 1000 },
    });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(p.queueName)}?status=failed`);
      await page
        .getByText('CRM unreachable: connect ETIMEDOUT crm.example.internal')
        .first()
        .waitFor({ timeout: 20_000 });
      await page.getByText(webhookJobId(res.body.id), { exact: true }).first().waitFor();
      await page.screenshot({ path: join(OUTPUT, 'dashboard-failed-job.png'), fullPage: true });

      crmDown = false;
      await page.getByRole('button', { name: 'Retry all' }).click();
      // Bull Board asks before acting on every job of a status.
      const confirm = page.getByRole('button', { name: /^(confirm|retry|yes)$/i }).last();
      if (await confirm.isVisible({ timeout: 2000 }).catch(() => false)) await confirm.click();

      await until('the retried job to complete', async () =>
        (await (await p.queue.getJob(webhookJobId(res.body.id)))?.getState()) === 'completed' ? true : undefined,
      );
      const [done] = await p.settled([res.body.id]);
      expect(done).toMatchObject({ status: 'processed', error: null });
      expect(await findCallSession(t.db, callId)).toMatchObject({ call_status: 'in_progress' });
      await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(p.queueName)}?status=completed`);
      await page.getByText(webhookJobId(res.body.id), { exact: true }).first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(OUTPUT, 'dashboard-retried-job.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
