import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { createDashboardApp } from '@callsync/dashboard';
import { defaultHandlers, type EventHandler } from '@callsync/domain';
import { createTestDatabase, type TestDatabase } from './support/database';
import { body, LIFECYCLE, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';
import { until } from './support/processes';
import { DASHBOARD_AUTH as AUTH, launchChromium, SCREENSHOTS, serveOnLoopback } from './support/browser';

/**
 * The operator's console in a real headless Chromium (Debian's, with playwright-core), at 1280x800:
 * log in, find a call and read its timeline, filter failed events and replay them until they are
 * processed, see both charts drawn, and get 401 without credentials. Screenshots go to test-output/.
 */
const OUTPUT = SCREENSHOTS;

let t: TestDatabase;
let p: Pipeline;
let server: Server;
let base: string;
let browser: Browser;
let context: BrowserContext;
let crmDown = true;

beforeAll(async () => {
  t = await createTestDatabase();
  const flaky: EventHandler = async (db, event) => {
    if (crmDown) throw new Error('CRM unreachable: connect ETIMEDOUT crm.example.internal');
    await defaultHandlers.call_analyzed!(db, event);
  };
  p = await startPipeline(t.db, { handlers: { ...defaultHandlers, call_analyzed: flaky }, attempts: 1 });
  const app = createDashboardApp({ queues: [p.queue], db: t.db, webhookQueue: p.queue, auth: AUTH });
  ({ server, base } = await serveOnLoopback(app));
  browser = await launchChromium();
  context = await browser.newContext({
    httpCredentials: { username: AUTH.user, password: AUTH.password },
    viewport: { width: 1280, height: 800 },
  });
  mkdirSync(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await p?.close();
  await t?.drop();
});

/** Three calls of the last hour; their call_analyzed fail while the CRM is down. */
async function deliverCalls(): Promise<string[]> {
  const calls = [newCallId('console'), newCallId('console'), newCallId('console')];
  const ids: string[] = [];
  const startMs = Date.now() - 3_600_000;
  for (const callId of calls)
    for (const e of LIFECYCLE)
      ids.push((await p.deliver(body(e, { callId, agentId: 'agent_console', startMs }))).body.id);
  await p.settled(ids);
  return calls;
}

describe('operator console in Chromium', () => {
  let calls: string[];
  beforeAll(async () => {
    calls = await deliverCalls();
  });

  it('without credentials: 401', async () => {
    for (const path of ['/console/calls', '/console/events', '/console/charts', '/console/charts.json']) {
      const res = await fetch(`${base}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });

  it('logs in, finds a call by id and shows its whole timeline', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/console/calls`);
    await page.getByLabel('Call or chat id').fill(calls[1]!);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: calls[1]! }).click();
    await page.getByRole('heading', { name: `Call ${calls[1]}` }).waitFor();
    for (const e of LIFECYCLE) await page.getByText(`${e} (webhook)`).waitFor();
    await page.getByText('CRM unreachable: connect ETIMEDOUT crm.example.internal').first().waitFor();
    expect(await page.content()).not.toContain('+491604366218');
    await page.screenshot({ path: join(OUTPUT, 'console-timeline.png'), fullPage: true });
    await page.close();
  });

  it('filters failed events and replays them: they become processed', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/console/events`);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until('three failed events listed', async () =>
      (await page.locator('td.status-failed').count()) === 3 ? true : undefined,
    );
    await page.screenshot({ path: join(OUTPUT, 'console-failed-events.png'), fullPage: true });
    crmDown = false;
    await page.getByRole('button', { name: 'Replay every event matching this filter' }).click();
    await page.getByText('3 event(s) replayed').waitFor();
    await until('the replayed events processed', async () => {
      const rows = await t.db
        .selectFrom('webhook_events')
        .select(['status', 'replay_count'])
        .where('event_type', '=', 'call_analyzed')
        .execute();
      return rows.length === 3 && rows.every((r) => r.status === 'processed' && r.replay_count === 1)
        ? true
        : undefined;
    });
    await page.goto(`${base}/console/events?status=failed`);
    await page.getByText('No events match.').waitFor();
    await page.close();
  });

  it('draws both charts with data', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/console/charts`);
    for (const id of ['events-chart', 'calls-chart']) {
      await page.locator(`#${id}[data-rendered]`).waitFor();
      expect(Number(await page.locator(`#${id}`).getAttribute('data-rendered'))).toBeGreaterThan(0);
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
    }
    await page.screenshot({ path: join(OUTPUT, 'console-charts.png'), fullPage: true });
    await page.close();
  });
});
